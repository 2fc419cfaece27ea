/**
 * Throughput and memory of the in-process hot paths that scale with input size (redacting output,
 * serializing/parsing secrets, validating migration folders), for `pnpm bench` (run.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateMigrationFiles } from "../src/migrations/validate-files.ts";
import { parseSecretsFile } from "../src/secrets/dotenv-dialect.ts";
import { parseFlyImport, serializeForFlyImport } from "../src/secrets/fly-import-format.ts";
import { createRedactor } from "../src/secrets/redactor.ts";
import { Secret } from "../src/secrets/secret.ts";

interface Row {
  name: string;
  input: string;
  iterations: number;
  msPerOp: number;
  throughput: string;
  heapDeltaMb: number;
}

async function bench(
  name: string,
  input: string,
  iterations: number,
  bytes: number | undefined,
  fn: () => unknown | Promise<unknown>,
): Promise<Row> {
  await fn();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  const ms = performance.now() - started;
  const heapDeltaMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
  const msPerOp = ms / iterations;
  return {
    name,
    input,
    iterations,
    msPerOp,
    throughput: bytes ? `${(bytes / 1024 / 1024 / (msPerOp / 1000)).toFixed(1)} MB/s` : `${(1000 / msPerOp).toFixed(0)} ops/s`,
    heapDeltaMb,
  };
}

/** Runs the hot-path benchmarks; `scale` (0..1] shortens the iteration counts for a quick check. @returns the markdown table's lines. */
export async function hotPathTable(scale = 1): Promise<string[]> {
  const n = (iterations: number) => Math.max(1, Math.round(iterations * scale));
  const rand = (len: number) => Array.from({ length: len }, (_, i) => String.fromCharCode(97 + ((i * 7919) % 26))).join("");
  const secrets = Array.from({ length: 20 }, (_, i) => new Secret(`tok_${i}_${rand(32)}`));
  const logLine = "2026-11-29T12:00:00Z info request served path=/healthz status=200 duration_ms=3 release=20261129-120000-abcd\n";
  const log = `${logLine.repeat(Math.ceil((5 * 1024 * 1024) / logLine.length))}leak ${secrets[7]!.reveal()}\n`;
  const redactor = createRedactor(secrets);

  const entries = Array.from({ length: 200 }, (_, i) => ({
    key: `KEY_${i}`,
    value: new Secret(i % 10 === 0 ? `-----BEGIN X-----\n${rand(64)}\n-----END X-----\n` : `v$${rand(40)} #x "q"`),
  }));
  const payload = serializeForFlyImport(entries);
  const dotenvText = Array.from({ length: 500 }, (_, i) =>
    i % 5 === 0 ? `export KEY_${i}="line one\\nline two"` : `KEY_${i}=${rand(40)}`,
  ).join("\n");

  const migDir = mkdtempSync(join(tmpdir(), "bench-migrations-"));
  for (let i = 1; i <= 200; i++)
    writeFileSync(
      join(migDir, `${i}_step-${i}.sql`),
      `CREATE TABLE t${i} (id int PRIMARY KEY, name text NOT NULL);\nCREATE INDEX t${i}_name ON t${i} (name);\n`,
    );

  const rows = [
    await bench("redact output", "5 MiB log, 20 secrets", n(10), log.length, () => redactor.redact(log)),
    await bench("serialize for fly secrets import", "200 secrets (20 multi-line)", n(200), payload.length, () =>
      serializeForFlyImport(entries),
    ),
    await bench("parse fly import payload", "200 secrets", n(500), payload.length, () => parseFlyImport(payload)),
    await bench("parse secrets file", "500 entries", n(500), dotenvText.length, () => parseSecretsFile(dotenvText, "bench.env")),
    await bench("validate migration folder", "200 files", n(20), undefined, () => validateMigrationFiles(migDir)),
  ];
  rmSync(migDir, { recursive: true, force: true });

  return [
    "| benchmark | input | iterations | ms/op | throughput | heap Δ (MB) |",
    "|---|---|---|---|---|---|",
    ...rows.map(
      (r) => `| ${r.name} | ${r.input} | ${r.iterations} | ${r.msPerOp.toFixed(2)} | ${r.throughput} | ${r.heapDeltaMb.toFixed(1)} |`,
    ),
  ];
}
