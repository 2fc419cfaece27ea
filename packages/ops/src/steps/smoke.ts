import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { SmokeCheckError } from "../errors.ts";
import { isImageOnly } from "../config/app-kind.ts";
import { pipelineRunId } from "../env.ts";
import { failCurrentRun, joinRun, plannedRunId, recordStep } from "../pipeline/run.ts";
import { applyPlan, printPlan, runPlan } from "../plan/plan.ts";
import { describeChoices, rollbackActions } from "../release/rollback.ts";
import { deployedInRun, smokeActions, smokeFailure, type smokeCheck } from "../release/smoke.ts";
import { NO_RELEASE } from "../target/target.ts";

type SmokeOutcome = Awaited<ReturnType<typeof smokeCheck>>;

/**
 * What a dry run of the pipeline expects to serve after run `runId`: this run's release for every
 * built app it deploys here (the release id is the run id), the current one for the others (an
 * image-only app's next Fly version is not known before its deploy, and no check proves it).
 */
async function plannedInRun(ctx: OpsContext, runId: string): Promise<Record<string, string>> {
  const current = await ctx.target.currentReleases();
  return Object.fromEntries(
    ctx.config.deployOrder.map((app) => {
      const deployedHere = !ctx.target.notRunHere?.(app) && !isImageOnly(ctx.config.apps[app]!);
      return [app, deployedHere ? runId : (current[app] ?? NO_RELEASE)];
    }),
  );
}

/**
 * The run a dry run of smoke belongs to when one is open: the current run of the state folder,
 * unless this `pnpm turbo` invocation has its own id (then that open run is another one's, e.g.
 * a killed run not yet taken over, and the dry run plans its own).
 */
function openRunOfThisPipeline(ctx: OpsContext): string | undefined {
  const current = ctx.runs.currentRunId();
  const own = pipelineRunId(ctx.env.processEnv);
  return current && (!own || own === current) ? current : undefined;
}

/** The release each app must report in run `runId`: what the run deployed, else what serves. */
async function expectedInRun(ctx: OpsContext, runId: string): Promise<Record<string, string>> {
  const deployed = deployedInRun(ctx, runId);
  const current = deployed.length === ctx.config.deployOrder.length ? {} : await ctx.target.currentReleases();
  return Object.fromEntries(
    ctx.config.deployOrder.map((app) => [app, deployed.find((d) => d.app === app)?.release ?? current[app] ?? NO_RELEASE]),
  );
}

/**
 * After failed smoke checks in a run: marks the run's releases failed and rolls its apps back to
 * their previous releases (unless OPS_AUTO_ROLLBACK=false), then marks the run.
 */
async function rollBackRun(ctx: OpsContext, runId: string, err: unknown): Promise<void> {
  const deployed = deployedInRun(ctx, runId);
  ctx.target.markSmokeFailed(deployed);
  const changed = deployed.filter((d) => d.previous && d.previous !== d.release);
  if (!ctx.env.autoRollback || changed.length === 0) {
    ctx.reporter.emit({
      kind: "warn",
      message: ctx.env.autoRollback
        ? "nothing to roll back: no app of this run had a previous release"
        : "automatic rollback is off (OPS_AUTO_ROLLBACK=false)",
      fix: "Roll back by hand with `pnpm ops:rollback` if needed.",
    });
    return failCurrentRun(ctx, "smoke", err);
  }
  try {
    const apps = changed.map((d) => d.app);
    const choices = await ctx.target.planRollback(
      apps,
      Object.fromEntries(changed.map((d) => [d.app, typeof d.previousVersion === "number" ? `v${d.previousVersion}` : d.previous!])),
    );
    const { actions, outcomes } = rollbackActions(ctx, choices);
    ctx.reporter.emit({ kind: "info", message: `rolling back ${describeChoices(choices).join(", ")}` });
    await applyPlan(ctx, { step: "smoke: automatic rollback", actions });
    ctx.reporter.emit({
      kind: "info",
      message: `rolled back: ${outcomes()
        .map((b) => `${b.app} now serves ${b.release}`)
        .join(", ")}`,
    });
    await failCurrentRun(ctx, "smoke", err, "rolled-back");
  } catch (rollbackErr) {
    ctx.reporter.emit({
      kind: "warn",
      message: `automatic rollback failed: ${(rollbackErr as Error).message}`,
      fix: "Run `pnpm ops:status` to see what serves, then `pnpm ops:rollback --to <release>`.",
    });
    await failCurrentRun(ctx, "smoke", err);
  }
}

/**
 * `pnpm ops:smoke` / the `production-smoke` task. In a run, the checks must prove the releases the
 * run deployed; if they fail, the run's apps are rolled back to their previous releases (unless
 * OPS_AUTO_ROLLBACK=false) and the step exits non-zero.
 */
export const smokeCommand = () =>
  defineOps({
    name: "smoke",
    description: "smoke-check the public app: retries with backoff under a deadline; passes only on proof of the expected releases",
    async run(ctx) {
      const started = new Date();
      let outcome: SmokeOutcome | undefined;
      if (ctx.flags.pipeline) {
        // A dry run of the pipeline has no run to join (its preflight opened none): it plans for a new one.
        const run = ctx.flags.dryRun ? undefined : await joinRun(ctx, "smoke");
        // A dry run plans this invocation's run; one started by hand inside an open run plans that run's smoke.
        const open = ctx.flags.dryRun ? openRunOfThisPipeline(ctx) : undefined;
        const runId = run?.runId ?? open ?? plannedRunId(ctx);
        const plan = {
          step: "smoke",
          actions: smokeActions(
            ctx,
            run || open ? await expectedInRun(ctx, runId) : await plannedInRun(ctx, runId),
            join(ctx.env.stateDir, "runs", runId),
            (r) => (outcome = r),
          ),
        };
        if (!run) return printPlan(ctx, plan);
        await applyPlan(ctx, plan);
        const ok = outcome!.results.every((r) => r.ok);
        recordStep(ctx, run, "smoke", started, { ok, reportPath: outcome!.reportPath }, ok ? "succeeded" : "failed");
        if (!ok) throw smokeFailure(outcome!.results, outcome!.reportPath);
        return;
      }
      const releases = await ctx.target.currentReleases();
      if (Object.values(releases).every((r) => r === NO_RELEASE)) {
        // Checks of an environment nothing was deployed to can only fail, and their fixes would not help.
        throw new SmokeCheckError(
          `nothing to smoke-check: no app has a release in environment "${ctx.env.environment}" yet (${Object.keys(releases).join(", ")})`,
          { fix: "Deploy first: `pnpm turbo run production-deploy`." },
        );
      }
      const reportDir = join(ctx.env.stateDir, "smoke", ctx.env.environment, new Date().toISOString().replace(/[:.]/g, "-"));
      const plan = { step: "smoke", actions: smokeActions(ctx, releases, reportDir, (r) => (outcome = r)) };
      if (ctx.flags.dryRun) return printPlan(ctx, plan);
      await runPlan(ctx, plan);
      if (!outcome!.results.every((r) => r.ok)) throw smokeFailure(outcome!.results, outcome!.reportPath);
    },
    async onFailure(ctx, err) {
      if (!ctx.flags.pipeline || ctx.flags.dryRun) return;
      const runId = ctx.runs.currentRunId();
      if (!runId || !(err instanceof SmokeCheckError)) return failCurrentRun(ctx, "smoke", err);
      await rollBackRun(ctx, runId, err);
    },
  });
