import type pg from "pg";

/**
 * The `ops` rows of one environment, kept across a database restore. A Neon branch restore
 * overwrites every schema, `ops` included: without this, the history written since the restore
 * point (and the restore point ids in it) would vanish, the lock row of the run that took the
 * restore point would come back, and the secret ledger would forget what was pushed since.
 */
export interface OpsSnapshot {
  environment: string;
  history: unknown[];
  ledger: unknown[];
  settings: unknown[];
  /** The lock row as it was before the restore (held by the restoring run). */
  lock: unknown[];
}

export async function snapshotOpsState(client: pg.Client, environment: string): Promise<OpsSnapshot> {
  const history = await client.query("SELECT * FROM ops.deploy_history WHERE environment = $1", [environment]);
  const ledger = await client.query("SELECT * FROM ops.secret_ledger WHERE environment = $1", [environment]);
  const settings = await client.query("SELECT * FROM ops.settings");
  const lock = await client.query("SELECT * FROM ops.deploy_lock WHERE environment = $1", [environment]);
  return { environment, history: history.rows, ledger: ledger.rows, settings: settings.rows, lock: lock.rows };
}

/**
 * Writes a snapshot back after a restore: history, ledger and settings replaced by key, and the
 * environment's lock set back to what it was (the restoring run's), dropping the row the
 * restore brought back from the restore point's time.
 */
export async function restoreOpsState(client: pg.Client, snapshot: OpsSnapshot): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("DELETE FROM ops.deploy_history WHERE environment = $1", [snapshot.environment]);
    await client.query("INSERT INTO ops.deploy_history SELECT * FROM json_populate_recordset(null::ops.deploy_history, $1::json)", [
      JSON.stringify(snapshot.history),
    ]);
    await client.query("DELETE FROM ops.secret_ledger WHERE environment = $1", [snapshot.environment]);
    await client.query("INSERT INTO ops.secret_ledger SELECT * FROM json_populate_recordset(null::ops.secret_ledger, $1::json)", [
      JSON.stringify(snapshot.ledger),
    ]);
    await client.query("DELETE FROM ops.settings");
    await client.query("INSERT INTO ops.settings SELECT * FROM json_populate_recordset(null::ops.settings, $1::json)", [
      JSON.stringify(snapshot.settings),
    ]);
    await client.query("DELETE FROM ops.deploy_lock WHERE environment = $1", [snapshot.environment]);
    await client.query("INSERT INTO ops.deploy_lock SELECT * FROM json_populate_recordset(null::ops.deploy_lock, $1::json)", [
      JSON.stringify(snapshot.lock),
    ]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
