import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listHistory, recordHistory, type HistoryEntry } from "../../src/db/history.ts";
import { acquireLock, readLock } from "../../src/db/lock.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { restoreOpsState, snapshotOpsState } from "../../src/db/ops-snapshot.ts";
import { ledgerKey, readLedger, recordPushed } from "../../src/db/secret-ledger.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const entry = (runId: string, restorePoint?: string): HistoryEntry => ({
  runId,
  environment: "production",
  target: "fly",
  kind: "deploy",
  status: "succeeded",
  actor: "a",
  host: "h",
  gitSha: "abc",
  startedAt: new Date(`2026-11-29T1${runId.length % 10}:00:00Z`),
  finishedAt: new Date(),
  releases: { client: { from: null, to: runId } },
  migrationsApplied: ["1_init.sql"],
  durationsMs: { smoke: 5 },
  restorePoint,
});

describe("ops state across a database restore", () => {
  it("puts history, ledger, settings and the restoring run's lock back; the lock row from the restore point is gone", async () => {
    const c = await db.connect();
    await ensureOpsSchema(c);
    // State at the restore point: one run, holding the lock while it took the restore point.
    await recordHistory(c, entry("run-1", "br-restore-1"));
    await acquireLock(
      c,
      "production",
      { user: "a", host: "h", runId: "run-1", gitSha: "abc", purpose: "deploy" },
      { ttlMs: 600_000, waitMs: 0 },
    );
    const atRestorePoint = await c.query("SELECT * FROM ops.deploy_lock");
    await c.query("DELETE FROM ops.deploy_lock");
    // Since then: another run, a pushed secret, and the rollback run holding the lock now.
    await recordHistory(c, entry("run-2"));
    const key = await ledgerKey(c);
    await recordPushed(c, "production", "client", "run-2", [{ key: "SESSION_SECRET", fingerprint: "f1", flyDigest: "d1" }]);
    await acquireLock(
      c,
      "production",
      { user: "b", host: "h", runId: "rollback-3", gitSha: "abc", purpose: "rollback" },
      { ttlMs: 600_000, waitMs: 0 },
    );
    const snapshot = await snapshotOpsState(c, "production");
    // The restore: the ops schema goes back to the restore point.
    await c.query("DELETE FROM ops.deploy_history WHERE run_id <> 'run-1'");
    await c.query("DELETE FROM ops.secret_ledger");
    await c.query("DELETE FROM ops.settings");
    await c.query("DELETE FROM ops.deploy_lock");
    await c.query("INSERT INTO ops.deploy_lock SELECT * FROM json_populate_recordset(null::ops.deploy_lock, $1::json)", [
      JSON.stringify(atRestorePoint.rows),
    ]);
    await restoreOpsState(c, snapshot);
    expect((await listHistory(c, "production")).map((h) => [h.runId, h.restorePoint ?? null]).sort()).toEqual([
      ["run-1", "br-restore-1"],
      ["run-2", null],
    ]);
    expect((await readLedger(c, "production", "client")).get("SESSION_SECRET")).toMatchObject({ fingerprint: "f1", flyDigest: "d1" });
    expect(await ledgerKey(c)).toEqual(key);
    expect((await readLock(c, "production"))?.runId).toBe("rollback-3");
  });
});
