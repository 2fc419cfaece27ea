import { randomUUID } from "node:crypto";
import type pg from "pg";
import { shortSha } from "../git-info.ts";
import { LockError } from "../errors.ts";
import { isOwnerAlive, type ProcessIdentity } from "../pipeline/owner.ts";

/** Who holds (or wants) the deploy lock. */
export interface LockHolder {
  user: string;
  host: string;
  runId: string;
  gitSha: string;
  /** What the holder is doing: `deploy`, `migrate`, `rollback`. */
  purpose: string;
  /** The process that owns the run on `host` (pipeline/owner.ts), when known. */
  owner?: ProcessIdentity;
}

export interface LockInfo extends LockHolder {
  environment: string;
  acquiredAt: Date;
  heartbeatAt: Date;
  expiresAt: Date;
}

export interface AcquireOptions {
  /** Lease length in milliseconds; renewed by `renewLock`. */
  ttlMs: number;
  /** `--lock-wait`: how long to wait for a busy lock, in milliseconds. 0 fails at once. */
  waitMs: number;
  /** Poll interval while waiting. @default 2000 */
  pollMs?: number;
  onWait?: (holder: LockInfo) => void;
  /** How the user makes this command wait for a busy lock, for the error's fix. @default "--lock-wait 10m" */
  waitHint?: string;
  /** A lock whose lease expired, or whose owner process on this host is gone, is taken over; this reports whose it was and why. */
  onTakeover?: (previous: LockInfo, why: string) => void;
}

const rowToInfo = (r: Record<string, unknown>): LockInfo => ({
  environment: String(r.environment),
  user: String(r.holder_user),
  host: String(r.holder_host),
  runId: String(r.run_id),
  gitSha: String(r.git_sha),
  purpose: String(r.purpose),
  ...(r.holder_pid != null ? { owner: { pid: Number(r.holder_pid), start: String(r.holder_pid_start) } } : {}),
  acquiredAt: new Date(r.acquired_at as string),
  heartbeatAt: new Date(r.heartbeat_at as string),
  expiresAt: new Date(r.expires_at as string),
});

/** `alice@laptop (run 20261129-…, deploy of abc1234, since 12:01:02Z, lease until 12:06:02Z)` */
export function describeHolder(h: LockInfo): string {
  return `${h.user}@${h.host} (run ${h.runId}, ${h.purpose} of ${shortSha(h.gitSha)}, since ${h.acquiredAt.toISOString()}, lease until ${h.expiresAt.toISOString()})`;
}

/**
 * Why a held lock no longer protects anything, for status output: its lease ran out, or its owner
 * process on this host (`host`, from `os.hostname()`) is gone (kill -9, a closed terminal). Either
 * way the next run takes it over by itself. Undefined while its holder may still be working.
 */
export function lockTakeoverNote(h: LockInfo, host: string, now = new Date()): string | undefined {
  if (h.host === host && h.owner && !isOwnerAlive(h.owner)) {
    return `its process ${h.owner.pid} on ${h.host} is gone: the next run takes it over and marks run ${h.runId} failed`;
  }
  if (h.expiresAt <= now) return `lease expired: the next run takes it over and marks run ${h.runId} failed`;
  return undefined;
}

/** The current lock row of an environment, or undefined. */
export async function readLock(client: pg.Client, environment: string): Promise<LockInfo | undefined> {
  const { rows } = await client.query("SELECT * FROM ops.deploy_lock WHERE environment = $1", [environment]);
  return rows[0] ? rowToInfo(rows[0]) : undefined;
}

/**
 * Takes the environment's deploy lock (a lease in `ops.deploy_lock`), waiting up to `waitMs`.
 * A lease that expired (its holder crashed) is taken over and reported through `onTakeover`.
 * @returns the lease token that `renewLock` and `releaseLock` need.
 * @throws {LockError} naming the holder when the lock stays busy past `waitMs`.
 */
export async function acquireLock(client: pg.Client, environment: string, holder: LockHolder, opts: AcquireOptions): Promise<string> {
  const token = randomUUID();
  const deadline = Date.now() + opts.waitMs;
  let reportedWait = false;
  for (;;) {
    const previous = await readLock(client, environment);
    const { rows } = await client.query(
      `INSERT INTO ops.deploy_lock (environment, token, run_id, holder_user, holder_host, git_sha, purpose, expires_at, holder_pid, holder_pid_start)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8::double precision / 1000), $9, $10)
       ON CONFLICT (environment) DO UPDATE SET
         token = EXCLUDED.token, run_id = EXCLUDED.run_id, holder_user = EXCLUDED.holder_user,
         holder_host = EXCLUDED.holder_host, git_sha = EXCLUDED.git_sha, purpose = EXCLUDED.purpose,
         acquired_at = now(), heartbeat_at = now(), expires_at = EXCLUDED.expires_at,
         holder_pid = EXCLUDED.holder_pid, holder_pid_start = EXCLUDED.holder_pid_start
       WHERE ops.deploy_lock.expires_at < now()
       RETURNING token`,
      [
        environment,
        token,
        holder.runId,
        holder.user,
        holder.host,
        holder.gitSha,
        holder.purpose,
        opts.ttlMs,
        holder.owner?.pid ?? null,
        holder.owner?.start ?? null,
      ],
    );
    if (rows[0]?.token === token) {
      // A row that was there and whose lease had run out was taken over; one released in between was not.
      if (previous && previous.expiresAt.getTime() <= Date.now()) await endAbandonedRun(client, previous, "its lease expired", opts);
      return token;
    }
    const current = await readLock(client, environment);
    if (!current) continue;
    // Same host, owner process gone (kill -9, a closed terminal): no need to wait out the lease.
    if (current.host === holder.host && current.owner && !isOwnerAlive(current.owner)) {
      const { rowCount } = await client.query("DELETE FROM ops.deploy_lock WHERE environment = $1 AND run_id = $2 AND holder_pid = $3", [
        environment,
        current.runId,
        current.owner.pid,
      ]);
      if (rowCount === 1) await endAbandonedRun(client, current, `its process ${current.owner.pid} on ${current.host} is gone`, opts);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new LockError(`environment "${environment}" is locked by ${describeHolder(current)}`, {
        where: `ops.deploy_lock[${environment}]`,
        fix: `Wait for that ${current.purpose} to finish, or run this again with a wait (${opts.waitHint ?? "--lock-wait 10m"}); if it died on another machine, run \`pnpm ops:lock break --yes\` (a dead run on this machine is taken over by itself).`,
      });
    }
    if (!reportedWait) {
      opts.onWait?.(current);
      reportedWait = true;
    }
    await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 2000, Math.max(50, deadline - Date.now()))));
  }
}

/** A holder that is gone: its run is marked failed in the history (it would say "running" forever), then reported. */
async function endAbandonedRun(client: pg.Client, previous: LockInfo, why: string, opts: AcquireOptions): Promise<void> {
  await client.query(
    "UPDATE ops.deploy_history SET status = 'failed', finished_at = now(), error = $2 WHERE run_id = $1 AND status = 'running'",
    [previous.runId, `abandoned: ${why}`],
  );
  opts.onTakeover?.(previous, why);
}

/**
 * Extends the lease by `ttlMs` from now.
 * @throws {LockError} when the token no longer holds the lock (it expired and someone took it, or it was broken).
 */
export async function renewLock(client: pg.Client, environment: string, token: string, ttlMs: number): Promise<void> {
  const { rowCount } = await client.query(
    `UPDATE ops.deploy_lock SET heartbeat_at = now(), expires_at = now() + make_interval(secs => $3::double precision / 1000)
     WHERE environment = $1 AND token = $2`,
    [environment, token, ttlMs],
  );
  if (rowCount !== 1) {
    const current = await readLock(client, environment);
    throw new LockError(
      `this run no longer holds the deploy lock of "${environment}"${current ? `; it is held by ${describeHolder(current)}` : " (it was broken)"}`,
      { where: `ops.deploy_lock[${environment}]`, fix: "Start a new run once the other holder is done." },
    );
  }
}

/** Releases the lock if `token` still holds it. Returns whether a row was released. */
export async function releaseLock(client: pg.Client, environment: string, token: string): Promise<boolean> {
  const { rowCount } = await client.query("DELETE FROM ops.deploy_lock WHERE environment = $1 AND token = $2", [environment, token]);
  return rowCount === 1;
}

/**
 * Releases the lock if run `runId` holds it: for a run whose state file (which holds the lease
 * token) can no longer be read. Returns whether it was held.
 */
export async function releaseLockOfRun(client: pg.Client, environment: string, runId: string): Promise<boolean> {
  const { rowCount } = await client.query("DELETE FROM ops.deploy_lock WHERE environment = $1 AND run_id = $2", [environment, runId]);
  return rowCount === 1;
}

/** What a broken lock's run shows in the history: the error `ops.deploy_history` records for it. */
export const BROKEN_LOCK_ERROR = "abandoned: its deploy lock was broken (pnpm ops:lock break)";

/**
 * Removes the lock whoever holds it (`pnpm ops:lock break`) and, in the same statement, marks its
 * run failed in `ops.deploy_history` ({@link BROKEN_LOCK_ERROR}) if it was still recorded as
 * running: no run says "running" after its lock is gone. Returns the holder it removed.
 */
export async function breakLock(client: pg.Client, environment: string): Promise<LockInfo | undefined> {
  const { rows } = await client.query(
    `WITH removed AS (DELETE FROM ops.deploy_lock WHERE environment = $1 RETURNING *),
     ended AS (
       UPDATE ops.deploy_history h SET status = 'failed', finished_at = now(), error = $2
       FROM removed WHERE h.run_id = removed.run_id AND h.status = 'running'
     )
     SELECT * FROM removed`,
    [environment, BROKEN_LOCK_ERROR],
  );
  return rows[0] ? rowToInfo(rows[0]) : undefined;
}
