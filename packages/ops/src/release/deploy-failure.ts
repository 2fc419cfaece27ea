import { join } from "node:path";
import type { OpsContext } from "../context.ts";
import { DeployError, InterruptedError, OpsError } from "../errors.ts";
import { failCurrentRun } from "../pipeline/run.ts";
import { applyPlan } from "../plan/plan.ts";
import type { ServingState } from "../target/target.ts";
import { describeChoices, rollbackActions } from "./rollback.ts";
import { deployedInRun, smokeActions, smokeFailure, type smokeCheck } from "./smoke.ts";

const STATE_WORDS: Record<ServingState["state"], string> = {
  "this-run": "this run's release",
  previous: "the release before this run",
  mixed: "MIXED (part on this run's release)",
  none: "nothing",
};

/** The `--to` that returns an app of run `runId` to what served before it, from its deploy step record. */
function previousOf(ctx: OpsContext, runId: string, app: string): string | undefined {
  const d = deployedInRun(ctx, runId).find((x) => x.app === app);
  if (!d) return undefined;
  return typeof d.previousVersion === "number" ? `v${d.previousVersion}` : (d.previous ?? undefined);
}

/**
 * After a deploy step of a pipeline run failed: per `onDeployFailure` in ops.config.ts, rolls back
 * every app the run changed (`rollback-run`, the default: apps it deployed and one a rolling
 * deploy updated halfway; each app on its own, so one failure does not stop the others) and
 * smoke-checks what serves, or leaves everything (`stop`). Then prints what serves per app, marks
 * the run (`rolled-back` or `failed`), releases the lock, and returns the error to show, whose fix
 * is the one command that returns to the state before the run (or says nothing is left to do).
 * An interrupt (Ctrl-C) only marks the run.
 */
export async function handleDeployFailure(ctx: OpsContext, failedApp: string | undefined, err: unknown): Promise<OpsError | void> {
  if (!ctx.flags.pipeline || ctx.flags.dryRun) return;
  const runId = ctx.runs.currentRunId();
  if (!runId || ctx.runs.read(runId).status !== "running" || err instanceof InterruptedError) return failCurrentRun(ctx, "deploy", err);
  const order = ctx.config.deployOrder;
  let serving: Record<string, ServingState>;
  try {
    serving = await ctx.target.servingNow(order, runId);
  } catch (readErr) {
    ctx.reporter.emit({
      kind: "warn",
      message: `could not read what serves now: ${(readErr as Error).message}`,
      fix: "Run `pnpm ops:status`.",
    });
    return failCurrentRun(ctx, "deploy", err);
  }
  const changed = () => order.filter((a) => serving[a]!.state === "this-run" || serving[a]!.state === "mixed");
  let status: "failed" | "rolled-back" = "failed";
  const notes: string[] = [];
  if (changed().length > 0 && ctx.config.onDeployFailure === "rollback-run") {
    const apps = [...changed()].reverse();
    const wanted = Object.fromEntries(apps.map((a) => [a, previousOf(ctx, runId, a)]));
    const choices = await ctx.target.planRollback(apps, wanted).catch((planErr: Error) => {
      notes.push(`could not plan the rollback: ${planErr.message}`);
      return [];
    });
    ctx.reporter.emit({
      kind: "info",
      message: `onDeployFailure=rollback-run: rolling back what this run changed: ${describeChoices(choices).join("; ")}`,
    });
    let rolledBack = 0;
    for (const choice of choices.filter((c) => c.toArg)) {
      const { actions } = rollbackActions(ctx, [choice]);
      try {
        await applyPlan(ctx, { step: `deploy: roll back ${choice.app}`, actions });
        rolledBack++;
      } catch (rbErr) {
        notes.push(`rollback of ${choice.app} failed: ${(rbErr as Error).message}`);
      }
    }
    for (const c of choices.filter((x) => !x.toArg)) notes.push(`${c.app} cannot be rolled back: ${c.reason}`);
    if (rolledBack > 0) {
      status = "rolled-back";
      let smoke: Awaited<ReturnType<typeof smokeCheck>> | undefined;
      const expect = {
        ...(await ctx.target.currentReleases()),
        ...Object.fromEntries(choices.filter((c) => c.expectRelease).map((c) => [c.app, c.expectRelease!])),
      };
      await applyPlan(ctx, {
        step: "deploy: smoke after rollback",
        actions: smokeActions(ctx, expect, join(ctx.env.stateDir, "runs", runId, "rollback"), (r) => (smoke = r)),
      }).catch((e: Error) => notes.push(`smoke checks after the rollback could not run: ${e.message}`));
      if (smoke && !smoke.results.every((r) => r.ok))
        notes.push(`smoke checks after the rollback failed: ${smokeFailure(smoke.results, smoke.reportPath).message}`);
    }
    serving = await ctx.target.servingNow(order, runId).catch(() => serving);
  }
  ctx.reporter.emit({
    kind: "table",
    title: `What serves now (run ${runId})`,
    columns: ["APP", "SERVES", "DETAIL"],
    rows: order.map((a) => [a, STATE_WORDS[serving[a]!.state], serving[a]!.detail]),
  });
  for (const n of notes) ctx.reporter.emit({ kind: "warn", message: n });
  await failCurrentRun(ctx, "deploy", err, status);
  const back = changed();
  const fix =
    back.length === 0
      ? `${status === "rolled-back" ? "This run's changes were rolled back; every app" : "Every app"} serves the release from before run ${runId}. Fix the cause, then deploy again: pnpm turbo run production-deploy`
      : `Back to the state before run ${runId}: ${[...back]
          .reverse()
          .map((a) => `pnpm ops:rollback --app ${a}${previousOf(ctx, runId, a) ? ` --to ${previousOf(ctx, runId, a)}` : ""}`)
          .join(" && ")}${ctx.config.onDeployFailure === "stop" ? ' (onDeployFailure is "stop": nothing was rolled back)' : ""}`;
  const message = err instanceof Error ? err.message : String(err);
  const where = err instanceof OpsError ? err.where : failedApp;
  const diagnosis = err instanceof OpsError && err.fix ? `${err.fix}\n  ` : "";
  return new DeployError(message, {
    ...(where ? { where } : {}),
    fix: `${diagnosis}${fix}`,
    exitCode: err instanceof OpsError ? err.exitCode : 1,
  });
}
