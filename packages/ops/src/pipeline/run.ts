import type pg from "pg";
import type { OpsContext } from "../context.ts";
import { LockError, RunStateError } from "../errors.ts";
import { pipelineRunId } from "../env.ts";
import { closeUnclosedRuns, recordHistory, type HistoryEntry } from "../db/history.ts";
import { formatElapsed, type ProgressHandle } from "../output/progress.ts";
import { acquireLock, describeHolder, releaseLock, releaseLockOfRun, renewLock } from "../db/lock.ts";
import { currentGitSha } from "../git-info.ts";
import { newRunId, type RunRecord, type StepRecord } from "../state/run-state.ts";
import { runTimeline } from "../output/timeline.ts";
import { withTargetDb } from "../target-db.ts";
import { runOwner, type ProcessIdentity } from "./owner.ts";

const withOwner = (owner: ProcessIdentity | undefined) => (owner ? { owner } : {});
import { action, type Action } from "../plan/plan.ts";

/**
 * The id of the run a pipeline task belongs to before any run is stored: the one `pnpm turbo` gave
 * this invocation (`OPS_PIPELINE_RUN_ID`), so a dry run's tasks plan the same releases; else a new one.
 */
export function plannedRunId(ctx: OpsContext): string {
  return (ctx.flags.pipeline ? pipelineRunId(ctx.env.processEnv) : undefined) ?? newRunId();
}

/** A new run record of this environment, not yet stored anywhere. */
export async function newRun(ctx: OpsContext): Promise<RunRecord> {
  return {
    runId: plannedRunId(ctx),
    environment: ctx.env.environment,
    target: ctx.env.target,
    actor: ctx.env.actor,
    host: ctx.env.host,
    gitSha: await currentGitSha(ctx.runner, ctx.env.repoRoot),
    startedAt: new Date().toISOString(),
    status: "running",
    ...withOwner(runOwner(ctx.flags.pipeline)),
  };
}

/**
 * Takes the environment's deploy lock for `run` and records the run as `running` in the history.
 * @returns the lease token.
 * @throws {LockError} naming the holder when the lock stays busy past `--lock-wait`.
 */
export async function lockRun(ctx: OpsContext, run: RunRecord, kind: HistoryEntry["kind"]): Promise<string> {
  return withTargetDb(ctx, "deploy lock", async (client) => {
    let waiting: ProgressHandle | undefined;
    const abandoned: { runId: string; why: string }[] = [];
    const token = await acquireLock(
      client,
      run.environment,
      { user: run.actor, host: run.host, runId: run.runId, gitSha: run.gitSha, purpose: kind, ...(run.owner ? { owner: run.owner } : {}) },
      {
        ttlMs: ctx.config.lock.ttlMs,
        waitMs: ctx.flags.lockWaitMs,
        // Options after `--` reach only turbo's last task: a pipeline waits through OPS_LOCK_WAIT.
        waitHint: ctx.flags.pipeline ? "OPS_LOCK_WAIT=10m pnpm turbo run production-deploy" : "--lock-wait 10m",
        onWait: (h) => {
          ctx.reporter.emit({
            kind: "info",
            message: `waiting up to ${ctx.flags.lockWaitMs} ms for the deploy lock held by ${describeHolder(h)}`,
          });
          waiting = ctx.reporter.progress(
            `waiting for the deploy lock held by ${describeHolder(h)} (up to ${formatElapsed(ctx.flags.lockWaitMs)})`,
          );
        },
        onTakeover: (h, why) => {
          ctx.reporter.emit({
            kind: "warn",
            message: `took over the deploy lock of ${describeHolder(h)}: ${why}; that run is marked failed`,
            fix: "Check what it left: `pnpm ops:status` (this run repairs what it can).",
          });
          // The abandoned run's local pointer and state, if it ran from this state folder (its run.json may be damaged too).
          ctx.runs.markAbandoned(h, why);
          abandoned.push({ runId: h.runId, why });
        },
      },
    ).finally(() => waiting?.end());
    // Holding the lock, this run is the only one of the environment: no other row may say running.
    for (const gone of await closeUnclosedRuns(client, run.environment, run.runId)) {
      ctx.reporter.emit({
        kind: "warn",
        message: `run ${gone.runId} (${gone.actor}@${gone.host}) was still recorded as running without the deploy lock; recorded as failed (abandoned)`,
        fix: "Nothing to do; `pnpm ops:history` shows it.",
      });
      const why = `still recorded as running when run ${run.runId} took the deploy lock`;
      ctx.runs.markAbandoned({ ...gone, user: gone.actor }, why);
      abandoned.push({ runId: gone.runId, why });
    }
    for (const { runId, why } of abandoned) await recordWhatAbandonedRunDid(ctx, client, runId, why);
    await recordHistory(client, historyOf(run, kind, {}));
    return token;
  });
}

/**
 * An abandoned run's history row gets what its steps recorded in this state folder before it was
 * killed (the releases it shipped, migrations, times), not only its failed status: without this
 * `ops:history` showed no release for a run killed after its deploys. Nothing when the run ran
 * elsewhere or its files cannot be read.
 */
export async function recordWhatAbandonedRunDid(ctx: OpsContext, client: pg.Client, runId: string, why: string): Promise<void> {
  try {
    if (!ctx.runs.exists(runId)) return;
    const record = ctx.runs.read(runId);
    const steps = ctx.runs.readSteps(runId);
    if (Object.keys(steps).length === 0) return;
    // A row its own finish closed (killed after that, before releasing the lock) stays as it is.
    const row = await client.query("SELECT status FROM ops.deploy_history WHERE run_id = $1", [runId]);
    if (row.rows[0]?.status === "succeeded") return;
    // Failed, abandoned, as the takeover said, even when its finish had written `succeeded` locally
    // before the kill (the history row and the lock were not closed); the row's kind is kept.
    const ended = {
      ...record,
      status: "failed" as const,
      error: `abandoned: ${why}`,
      finishedAt: record.finishedAt ?? new Date().toISOString(),
    };
    await recordHistory(client, historyOf(ended, "deploy", steps));
  } catch {
    // A damaged run.json or step file: the row keeps its failed status and reason.
  }
}

/**
 * The actions that open a pipeline run (preflight does this): take the environment's deploy lock
 * and record the run as `running` in the history, then make it the current run every later task
 * joins. The lock is kept renewed while the process lives.
 * @throws (on apply) {LockError} naming the holder when another deploy holds the lock past `--lock-wait`.
 */
export function openRunActions(ctx: OpsContext, run: RunRecord, kind: HistoryEntry["kind"] = "deploy"): Action[] {
  return [
    action("db", `take the deploy lock of "${run.environment}" and record run ${run.runId} as running in ops.deploy_history`, async () => {
      run.lockToken = await lockRun(ctx, run, kind);
      keepLease(ctx, run.environment, run.lockToken);
    }),
    action(
      "file",
      `open run ${run.runId}: the run state every later task of the pipeline joins`,
      async () => {
        try {
          ctx.runs.create(run);
        } catch (err) {
          // No run state, so no later task could release the lock: release it now.
          if (run.lockToken) {
            const token = run.lockToken;
            await withTargetDb(ctx, "deploy lock", (client) => releaseLock(client, run.environment, token), { start: false }).catch(
              () => undefined,
            );
          }
          throw err;
        }
        ctx.reporter.emit({
          kind: "info",
          message: `run ${run.runId} opened; deploy lock of "${run.environment}" held by ${run.actor}@${run.host}`,
        });
      },
      { path: ctx.runs.runDir(run.runId) },
    ),
  ];
}

/** The run record, or undefined when it does not exist or cannot be read. */
function readRunIfAny(ctx: OpsContext, runId: string): RunRecord | undefined {
  try {
    return ctx.runs.exists(runId) ? ctx.runs.read(runId) : undefined;
  } catch {
    return undefined;
  }
}

/** A pipeline step that finds its run already ended by another step's failure. */
function endedRunError(run: RunRecord, step: string): RunStateError {
  const how = `${run.status}${run.failedStep ? ` at ${run.failedStep}` : ""}${run.error ? `: ${run.error}` : ""}`;
  return new RunStateError(`run ${run.runId} already ended (${how}); ${step} did not start`, {
    fix: "See that step's error above; fix it and run `pnpm turbo run production-deploy` again.",
  });
}

/**
 * Joins the current run (every pipeline task after preflight) and renews the lock lease.
 * @throws {RunStateError} when no run is under way; {LockError} when the run lost its lock.
 */
export async function joinRun(ctx: OpsContext, step: string): Promise<RunRecord> {
  // A step beside this one (db-migrate beside sync-secrets) may have failed and ended this
  // invocation's run already: say that, not "no run under way" or "the lock was broken".
  const own = pipelineRunId(ctx.env.processEnv);
  const ended = (runId: string | undefined) => {
    const r = runId ? readRunIfAny(ctx, runId) : undefined;
    return r && r.status !== "running" ? endedRunError(r, step) : undefined;
  };
  const endedBefore = ended(own);
  if (endedBefore) throw endedBefore;
  const run = ctx.runs.requireCurrent(step);
  try {
    await withTargetDb(ctx, "deploy lock", (client) => renewLock(client, run.environment, run.lockToken ?? "", ctx.config.lock.ttlMs));
  } catch (err) {
    const endedMeanwhile = err instanceof LockError ? ended(run.runId) : undefined;
    throw endedMeanwhile ?? err;
  }
  keepLease(ctx, run.environment, run.lockToken ?? "");
  ctx.reporter.emit({ kind: "info", message: `joined run ${run.runId} (started ${run.startedAt} by ${run.actor})` });
  return run;
}

/**
 * Renews the lease every third of its length while this process works (a long migration or a
 * slow `fly deploy` must not let it expire). The timer never keeps the process alive; a lost
 * lease is reported once.
 */
export function keepLease(ctx: OpsContext, environment: string, token: string): () => Promise<void> {
  let warned = false;
  let inflight: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      inflight = withTargetDb(ctx, "deploy lock", (client) => renewLock(client, environment, token, ctx.config.lock.ttlMs), {
        start: false,
      }).catch((err: Error) => {
        if (warned) return;
        warned = true;
        ctx.reporter.emit({
          kind: "warn",
          message: `could not renew the deploy lock: ${err.message}`,
          fix: "If another deploy took it over, stop this one.",
        });
      });
    },
    Math.max(500, Math.floor(ctx.config.lock.ttlMs / 3)),
  );
  timer.unref();
  // Stopping waits for a renewal under way, so nothing extends the lease afterwards.
  return () => {
    clearInterval(timer);
    return inflight;
  };
}

/** Records a finished pipeline step in the run folder. */
export function recordStep(
  ctx: OpsContext,
  run: RunRecord,
  step: string,
  startedAt: Date,
  detail: Record<string, unknown>,
  status: StepRecord["status"] = "succeeded",
): void {
  ctx.runs.writeStep(run.runId, { step, status, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), detail });
}

/** What the steps of a run recorded, folded into a history row. */
export function historyOf(run: RunRecord, kind: HistoryEntry["kind"], steps: Record<string, StepRecord>): HistoryEntry {
  const releases: HistoryEntry["releases"] = {};
  const durationsMs: Record<string, number> = {};
  let migrationsApplied: string[] = [];
  let restorePoint: string | undefined;
  let schemaVersion: number | undefined;
  // In the order the steps started, so the apps are listed in the order they shipped.
  for (const s of Object.values(steps).sort((a, b) => a.startedAt.localeCompare(b.startedAt))) {
    durationsMs[s.step] = s.durationMs;
    const d = s.detail as {
      app?: string;
      previous?: string | null;
      release?: string;
      applied?: string[];
      restorePoint?: string;
      schemaVersion?: number;
    };
    if (d.app && d.release) releases[d.app] = { from: d.previous ?? null, to: d.release };
    if (Array.isArray(d.applied)) migrationsApplied = d.applied;
    if (d.restorePoint) restorePoint = d.restorePoint;
    if (typeof d.schemaVersion === "number") schemaVersion = d.schemaVersion;
  }
  return {
    runId: run.runId,
    environment: run.environment,
    target: run.target,
    kind,
    status: run.status,
    actor: run.actor,
    host: run.host,
    gitSha: run.gitSha,
    startedAt: new Date(run.startedAt),
    finishedAt: run.finishedAt ? new Date(run.finishedAt) : undefined,
    releases,
    migrationsApplied,
    durationsMs,
    timeline: runTimeline(run.startedAt, steps),
    restorePoint,
    schemaVersion,
    failedStep: run.failedStep,
    error: run.error,
  };
}

/**
 * Ends a run: writes its final status to the run state and the history, releases the lock and
 * clears the current-run pointer. Safe to call twice.
 */
export async function closeRun(
  ctx: OpsContext,
  run: RunRecord,
  status: RunRecord["status"],
  extra: { failedStep?: string; error?: string } = {},
): Promise<RunRecord> {
  // The lock is released whatever happens to the run's files (damaged, read-only, a full disk);
  // a file error is thrown only afterwards.
  const problems: unknown[] = [];
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn();
    } catch (err) {
      problems.push(err);
      return fallback;
    }
  };
  const patch = { status, finishedAt: new Date().toISOString(), ...extra };
  const final = attempt(() => ctx.runs.update(run.runId, patch), { ...run, ...patch });
  const steps = attempt(() => ctx.runs.readSteps(run.runId), {});
  try {
    await withTargetDb(
      ctx,
      "deploy history",
      async (client) => {
        await recordHistory(client, historyOf(final, "deploy", steps));
        if (run.lockToken) await releaseLock(client, run.environment, run.lockToken);
      },
      { start: false },
    );
  } finally {
    attempt(() => ctx.runs.clearCurrent(run.runId), undefined);
  }
  if (problems.length > 0) throw problems[0];
  return final;
}

/** For `onFailure` hooks of pipeline steps: marks the current run failed and releases the lock. */
export async function failCurrentRun(ctx: OpsContext, step: string, error: unknown, status: RunRecord["status"] = "failed"): Promise<void> {
  if (!ctx.flags.pipeline || ctx.flags.dryRun) return;
  const runId = ctx.runs.currentRunId();
  if (!runId) return;
  let run: RunRecord;
  try {
    run = ctx.runs.read(runId);
  } catch (readErr) {
    // run.json (which holds the lease token) is damaged: release the lock by run id, then say so.
    const released = await withTargetDb(ctx, "deploy lock", (client) => releaseLockOfRun(client, ctx.env.environment, runId), {
      start: false,
    });
    ctx.runs.clearCurrent(runId);
    ctx.reporter.emit({
      kind: "info",
      message: `run ${runId} could not be marked ${status} (${(readErr as Error).message}); ${released ? "its deploy lock was released" : "it held no deploy lock"}`,
    });
    return;
  }
  if (run.status !== "running") return;
  const message = error instanceof Error ? error.message : String(error);
  await closeRun(ctx, run, status, { failedStep: step, error: ctx.redact(message.split("\n")[0]!.slice(0, 500)) });
  ctx.reporter.emit({ kind: "info", message: `run ${runId} marked ${status} at ${step}; deploy lock released` });
}
