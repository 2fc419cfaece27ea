import type { OpsContext } from "../context.ts";
import { recordHistory, type HistoryEntry } from "../db/history.ts";
import { releaseLock } from "../db/lock.ts";
import type { RunRecord } from "../state/run-state.ts";
import { withTargetDb } from "../target-db.ts";
import { historyOf, keepLease, lockRun, newRun } from "./run.ts";
import { onInterrupt } from "../cli/run-ops.ts";

/**
 * Runs a step outside a pipeline (`pnpm ops:migrate`, `pnpm ops:rollback`) under the same deploy
 * lock, recording it in the history as its own run of `kind`. The lock is released whatever happens.
 * @throws {LockError} when a deploy holds the lock past `--lock-wait`; whatever `fn` throws.
 */
export async function withStandaloneRun<T>(
  ctx: OpsContext,
  kind: HistoryEntry["kind"],
  fn: (run: RunRecord) => Promise<{ result: T; releases?: HistoryEntry["releases"]; migrationsApplied?: string[]; restorePoint?: string }>,
): Promise<T> {
  const run = await newRun(ctx);
  const entry = (status: HistoryEntry["status"], extra: Partial<HistoryEntry> = {}): HistoryEntry => ({ ...historyOf({ ...run, status }, kind, {}), ...extra });
  const token = await lockRun(ctx, run, kind);
  const stopLease = keepLease(ctx, run.environment, token);
  const release = () => withTargetDb(ctx, "deploy lock", (client) => releaseLock(client, run.environment, token), { start: false });
  const forget = onInterrupt(release);
  const started = Date.now();
  try {
    const out = await fn(run);
    await withTargetDb(ctx, "deploy history", (client) =>
      recordHistory(client, entry("succeeded", { finishedAt: new Date(), releases: out.releases ?? {}, migrationsApplied: out.migrationsApplied ?? [], restorePoint: out.restorePoint, durationsMs: { [kind]: Date.now() - started } })),
    );
    return out.result;
  } catch (err) {
    await withTargetDb(ctx, "deploy history", (client) =>
      recordHistory(client, entry("failed", { finishedAt: new Date(), error: ctx.redact(((err as Error).message ?? String(err)).split("\n")[0]!), durationsMs: { [kind]: Date.now() - started } })),
    ).catch(() => undefined);
    throw err;
  } finally {
    forget();
    await stopLease();
    await release().catch(() => undefined);
  }
}
