import type { OpsContext } from "../context.ts";
import { recordHistory, type HistoryEntry } from "../db/history.ts";
import { releaseLock } from "../db/lock.ts";
import { action, printPlan, applyPlan, type Plan } from "../plan/plan.ts";
import type { RunRecord } from "../state/run-state.ts";
import { withTargetDb } from "../target-db.ts";
import { historyOf, keepLease, lockRun, newRun } from "./run.ts";

/** What a standalone run records in the history besides its status. */
export interface StandaloneRecord {
  releases?: HistoryEntry["releases"];
  migrationsApplied?: string[];
  restorePoint?: string;
}

/**
 * Runs a step outside a pipeline (`pnpm ops:migrate`, `pnpm ops:rollback`) under the same deploy
 * lock, recorded in the history as its own run of `kind`. `build` works the plan out (reads
 * only); the plan shown and applied is: take the lock, the step's actions, record the run and
 * release the lock (released whatever happens, also on an interrupt). A dry run prints it and
 * returns `undefined`.
 * @throws {LockError} when a deploy holds the lock past `--lock-wait`; whatever an action throws.
 */
export async function runStandalone<T>(
  ctx: OpsContext,
  kind: HistoryEntry["kind"],
  build: (run: RunRecord) => Promise<{ plan: Plan; result: () => T; record?: () => StandaloneRecord }>,
): Promise<T | undefined> {
  const run = await newRun(ctx);
  const { plan, result, record } = await build(run);
  const entry = (status: HistoryEntry["status"], extra: Partial<HistoryEntry> = {}): HistoryEntry => ({
    ...historyOf({ ...run, status }, kind, {}),
    ...extra,
  });
  const lock = action("db", `take the deploy lock of "${run.environment}" and record ${kind} run ${run.runId} as running`, () =>
    lockRun(ctx, run, kind),
  );
  const started = Date.now();
  const close = action("db", `record run ${run.runId} as succeeded in ops.deploy_history and release the deploy lock`, async () => {
    const out = record?.() ?? {};
    await withTargetDb(ctx, "deploy history", (client) =>
      recordHistory(
        client,
        entry("succeeded", {
          finishedAt: new Date(),
          releases: out.releases ?? {},
          migrationsApplied: out.migrationsApplied ?? [],
          restorePoint: out.restorePoint,
          durationsMs: { [kind]: Date.now() - started },
        }),
      ),
    );
  });
  if (ctx.flags.dryRun) {
    printPlan(ctx, { ...plan, actions: [lock, ...ctx.target.repairActions(), ...plan.actions, close] });
    return undefined;
  }
  // Numbered as the dry run prints it: the lock first, then (repairs found once it is held) the step's actions and the record.
  const planned = 1 + plan.actions.length + 1;
  const [token] = (await applyPlan(
    ctx,
    { step: plan.step, actions: [lock], ...(plan.notes ? { notes: plan.notes } : {}) },
    {
      first: 1,
      total: planned,
    },
  )) as [string];
  const stopLease = keepLease(ctx, run.environment, token);
  const release = () => withTargetDb(ctx, "deploy lock", (client) => releaseLock(client, run.environment, token), { start: false });
  const forget = ctx.onInterrupt(release);
  try {
    const repairs = ctx.target.repairActions();
    await applyPlan(ctx, { step: plan.step, actions: [...repairs, ...plan.actions, close] }, { first: 2, total: planned + repairs.length });
    return result();
  } catch (err) {
    // What the step did before it failed (migrations that committed, apps already rolled back).
    let done: StandaloneRecord = {};
    try {
      done = record?.() ?? {};
    } catch {
      // nothing recorded
    }
    await withTargetDb(ctx, "deploy history", (client) =>
      recordHistory(
        client,
        entry("failed", {
          releases: done.releases ?? {},
          migrationsApplied: done.migrationsApplied ?? [],
          ...(done.restorePoint ? { restorePoint: done.restorePoint } : {}),
          finishedAt: new Date(),
          failedStep: kind,
          error: ctx.redact(((err as Error).message ?? String(err)).split("\n")[0]!),
          durationsMs: { [kind]: Date.now() - started },
        }),
      ),
    ).catch(() => undefined);
    throw err;
  } finally {
    forget();
    await stopLease();
    await release().catch(() => undefined);
  }
}
