import type { OpsContext } from "../context.ts";
import { recordHistory, type HistoryEntry } from "../db/history.ts";
import { acquireLock, describeHolder, releaseLock } from "../db/lock.ts";
import { currentGitSha } from "../git-info.ts";
import { newRunId, type RunRecord } from "../state/run-state.ts";
import { withTargetDb } from "../target-db.ts";

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
  const gitSha = await currentGitSha(ctx.runner, ctx.env.repoRoot);
  const run: RunRecord = {
    runId: newRunId(),
    environment: ctx.env.environment,
    target: ctx.env.target,
    actor: ctx.env.actor,
    host: ctx.env.host,
    gitSha,
    startedAt: new Date().toISOString(),
    status: "running",
  };
  const entry = (status: HistoryEntry["status"], extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
    runId: run.runId,
    environment: run.environment,
    target: run.target,
    kind,
    status,
    actor: run.actor,
    host: run.host,
    gitSha,
    startedAt: new Date(run.startedAt),
    releases: {},
    migrationsApplied: [],
    durationsMs: {},
    ...extra,
  });
  const token = await withTargetDb(ctx, "deploy lock", async (client) => {
    const t = await acquireLock(client, run.environment, { user: run.actor, host: run.host, runId: run.runId, gitSha, purpose: kind }, {
      ttlMs: ctx.config.lock.ttlMs,
      waitMs: ctx.flags.lockWaitMs,
      onWait: (h) => ctx.reporter.emit({ kind: "info", message: `waiting for the deploy lock held by ${describeHolder(h)}` }),
      onTakeover: (h) => ctx.reporter.emit({ kind: "warn", message: `took over an expired deploy lock of ${describeHolder(h)}` }),
    });
    await recordHistory(client, entry("running"));
    return t;
  });
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
    await withTargetDb(ctx, "deploy lock", (client) => releaseLock(client, run.environment, token), { start: false }).catch(() => undefined);
  }
}
