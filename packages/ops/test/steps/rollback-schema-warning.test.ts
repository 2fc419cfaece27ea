// The warning about migrations applied since the rollback target suggests what the target can
// do: `--db` only where there are restore points; on local (none) it says to roll forward.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordHistory } from "../../src/db/history.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { RollbackError } from "../../src/errors.ts";
import { rollbackCommand } from "../../src/steps/rollback.ts";
import { testContext } from "../setup/context.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), "ops-rollback-warning-"));
});
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("rollback on the local target with migrations applied since the target release", () => {
  it("warns that they stay, and says to roll forward instead of suggesting --db", async () => {
    const stateDir = join(dir, ".ops");
    const appDir = join(stateDir, "local", "warn", "apps", "client");
    mkdirSync(appDir, { recursive: true });
    const release = (id: string, createdAt: string) => ({ id, createdAt, gitSha: "s", runId: id, status: "stopped" });
    writeFileSync(
      join(appDir, "state.json"),
      JSON.stringify({
        current: "r2",
        releases: [release("r2", "2026-02-01T00:00:00.000Z"), release("r1", "2026-01-01T00:00:00.000Z")],
        served: [
          { release: "r1", at: "2026-01-01T00:00:00.000Z", via: "deploy" },
          { release: "r2", at: "2026-02-01T00:00:00.000Z", via: "deploy" },
        ],
      }),
    );
    const client = await db.connect();
    await ensureOpsSchema(client);
    // postgres-migrations' own table: migration 3 was applied after r1 was made.
    await client.query(
      "CREATE TABLE migrations (id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL, hash varchar(40) NOT NULL, executed_at timestamp DEFAULT current_timestamp)",
    );
    await client.query("INSERT INTO migrations (id, name, hash, executed_at) VALUES (3, '3_add_column.sql', 'h', '2026-02-01 00:00:00')");
    await recordHistory(client, {
      runId: "r2",
      environment: "warn",
      target: "local",
      kind: "deploy",
      status: "succeeded",
      actor: "a",
      host: "h",
      gitSha: "s",
      startedAt: new Date("2026-02-01T00:00:00.000Z"),
      releases: {},
      migrationsApplied: ["3_add_column.sql"],
      durationsMs: {},
    });
    const { ctx, lines } = await testContext({ env: { DATABASE_URL: db.url, OPS_STATE_DIR: stateDir, OPS_ENV: "warn" } });
    // The backend has no earlier release, so the command stops after its warnings, before changing anything.
    await expect(rollbackCommand().run(ctx, { values: {}, positionals: [] })).rejects.toBeInstanceOf(RollbackError);
    const warn = lines.map((l) => JSON.parse(l)).find((e) => e.kind === "warn");
    expect(warn.message).toMatch(
      /^migrations applied since that release stay applied: 3 3_add_column\.sql \(applied [^)]+\) \[from the database's migrations table/,
    );
    expect(warn.fix).toContain("the local target cannot restore the database, so if it must change, roll forward with a new migration");
    expect(warn.fix).not.toContain("--db");
  });
});
