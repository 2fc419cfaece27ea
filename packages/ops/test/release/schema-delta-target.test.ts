// schemaDeltaSince against a real target database (local target, DATABASE_URL): the migrations
// table and the history row of the release's run are read from the database itself.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordHistory, type HistoryEntry } from "../../src/db/history.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { schemaDeltaSince } from "../../src/release/schema-delta.ts";
import type { RollbackChoice } from "../../src/target/target.ts";
import { testContext } from "../setup/context.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let stateDir: string;
const dbs: TestDatabase[] = [];
beforeAll(() => {
  stateDir = mkdtempSync(join(tmpdir(), "ops-delta-"));
});
afterAll(async () => {
  for (const db of dbs) await db.drop();
  rmSync(stateDir, { recursive: true, force: true });
});

const deployRun: HistoryEntry = {
  runId: "20261201-100000-aaaa",
  environment: "delta",
  target: "local",
  kind: "deploy",
  status: "succeeded",
  actor: "a",
  host: "h",
  gitSha: "abc",
  startedAt: new Date("2026-12-01T10:00:00Z"),
  releases: { client: { from: null, to: "20261201-100000-aaaa" } },
  migrationsApplied: ["0_create-migrations-table.sql", "1_init.sql", "2_add-users.sql"],
  durationsMs: {},
  schemaVersion: 2,
};
const choice: RollbackChoice = {
  app: "client",
  from: "20261203-100000-cccc",
  to: "20261201-100000-aaaa",
  toArg: "20261201-100000-aaaa",
  expectRelease: "20261201-100000-aaaa",
  since: "2026-12-01T10:00:30Z",
};

/** A database with the ops history above and a `migrations` table made by `createMigrations`. */
async function database(createMigrations: string) {
  const db = await createTestDatabase();
  dbs.push(db);
  const c = await db.connect();
  await ensureOpsSchema(c);
  await recordHistory(c, deployRun);
  await c.query(createMigrations);
  await c.end();
  const { ctx } = await testContext({ env: { DATABASE_URL: db.url, OPS_STATE_DIR: stateDir, OPS_ENV: "delta" }, flags: { dryRun: true } });
  return ctx;
}

describe("schemaDeltaSince on a real database", () => {
  it("lists what the migrations table holds beyond the release's recorded schema version, a hand-applied one marked", async () => {
    const ctx = await database(`CREATE TABLE migrations (id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL,
      hash varchar(40) NOT NULL, executed_at timestamp DEFAULT current_timestamp);
      INSERT INTO migrations (id, name, hash, executed_at) VALUES (0, 'create-migrations-table', 'x', '2026-12-01 10:00:01'),
        (1, 'init', 'a', '2026-12-01 10:00:02'), (2, 'add-users', 'b', '2026-12-01 10:00:03'), (3, 'hand-fix', 'c', '2026-12-02 09:00:00')`);
    const delta = await schemaDeltaSince(ctx, [choice]);
    expect(delta.migrations).toEqual([
      { id: 3, name: "hand-fix", executedAt: expect.stringMatching(/^2026-12-0[12]T/), byThisTool: false },
    ]);
    expect(delta.source).toBe(
      "the database's migrations table (postgres-migrations); client 20261201-100000-aaaa was deployed at schema version 2 (run 20261201-100000-aaaa)",
    );
    // Nothing to roll back to: nothing to list, and nothing read.
    expect(await schemaDeltaSince(ctx, [{ app: "client", from: "x", reason: "no release" }])).toEqual({
      migrations: [],
      source: "nothing to roll back",
      fromDatabase: true,
    });
  });

  it("a `migrations` table that is not postgres-migrations' (no executed_at): falls back to this tool's history and says so", async () => {
    // Another library's table of the same name (postgres-migrations' existence check would find it too).
    const ctx = await database("CREATE TABLE migrations (id integer PRIMARY KEY, name text NOT NULL)");
    const delta = await schemaDeltaSince(ctx, [{ ...choice, since: "2026-11-30T00:00:00Z" }]);
    expect(delta.migrations).toEqual([
      { id: 1, name: "1_init.sql", executedAt: undefined, byThisTool: true },
      { id: 2, name: "2_add-users.sql", executedAt: undefined, byThisTool: true },
    ]);
    expect(delta.fromDatabase).toBe(false);
    expect(delta.source).toMatch(
      /^this tool's deploy history only: the database's migrations table could not be read \(.*executed_at.*\), so migrations applied by hand are not listed$/,
    );
  });
});
