import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import type { OpsEnv } from "../../src/env.ts";
import { purgeEnvironment, purgeTargets } from "../../src/local/purge.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

it("names the Postgres data folder outside the state folder by its whole path, the rest relative to the state folder", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "ops-purge-state-"));
  // Where the data goes when the checkout sits in a folder the postgres user cannot enter.
  const dataHome = mkdtempSync(join(tmpdir(), "deploy-ops-pg-"));
  dirs.push(stateDir, dataHome);
  const root = join(stateDir, "local", "dev");
  mkdirSync(root, { recursive: true });
  mkdirSync(join(dataHome, "data"));
  mkdirSync(join(stateDir, "ledger", "dev"), { recursive: true });
  // A build snapshot: read-only files, as the artifacts step leaves them.
  const snapshot = join(stateDir, "artifacts", "dev", "client", "a".repeat(64), "build");
  mkdirSync(snapshot, { recursive: true });
  writeFileSync(join(snapshot, "server.mjs"), "export {};\n", { mode: 0o444 });
  mkdirSync(join(stateDir, "runs", "20261207-120000-abcd"), { recursive: true });
  writeFileSync(join(stateDir, "runs", "20261207-120000-abcd", "run.json"), JSON.stringify({ environment: "dev" }));
  const env = { stateDir, environment: "dev" } as OpsEnv;

  const targets = purgeTargets(env, join(dataHome, "data"), root);
  expect(purgeEnvironment(env, targets)).toEqual([
    join("local", "dev"),
    dataHome,
    join("ledger", "dev"),
    join("artifacts", "dev"),
    join("runs", "20261207-120000-abcd"),
  ]);
  expect(targets.some((t) => existsSync(t))).toBe(false);
});
