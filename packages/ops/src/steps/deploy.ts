import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { DeployError, UsageError } from "../errors.ts";
import { joinRun, newRun, recordStep } from "../pipeline/run.ts";
import { handleDeployFailure } from "../release/deploy-failure.ts";
import { runStandalone } from "../pipeline/standalone.ts";
import { applyPlan, printPlan } from "../plan/plan.ts";
import type { AppFingerprints } from "../secrets/ledger.ts";
import { join } from "node:path";
import { type ArtifactSnapshot, artifactStore, plannedSnapshot, recordedSnapshot } from "../artifacts/snapshot.ts";
import { builtApps } from "../config/app-kind.ts";

/** The fingerprints the sync step of run `runId` staged for `app` (local target), if any. */
function stagedFor(ctx: OpsContext, runId: string, app: string): AppFingerprints | undefined {
  return (ctx.runs.readSteps(runId)["sync-secrets"]?.detail as { staged?: Record<string, AppFingerprints> } | undefined)?.staged?.[app];
}

/**
 * The build snapshot a dry run of the pipeline plans the deploy of `app` with: the one the
 * artifacts step would make of the build as it is now; none on a target that builds remotely, for
 * an image-only app, or when the build is missing (the real run's artifacts step says so).
 */
function snapshotToPlan(ctx: OpsContext, app: string): ArtifactSnapshot | undefined {
  const built = builtApps([app], ctx.config.apps)[0]?.built;
  if (!ctx.target.shipsBuildOutputs || !built) return undefined;
  try {
    return plannedSnapshot({
      app,
      appDir: join(ctx.env.repoRoot, built.dir),
      artifacts: built.artifacts,
      store: artifactStore(ctx.env.stateDir, ctx.env.environment),
    });
  } catch (err) {
    if (err instanceof DeployError) return undefined;
    throw err;
  }
}

/**
 * `scripts/deploy.ts <app>` / the `<app>#deploy` task: deploys one app to the target. In a
 * pipeline run it uses the run's release id, the build snapshot the artifacts step made and the
 * secrets the sync step staged; alone it takes the deploy lock itself and ships the current build. `--dry-run` prints the target's plan (the very commands apply runs).
 * @throws {DeployError} when the build is missing, secrets moved, or the release is not healthy in time (the previous release keeps serving).
 */
export const deployCommand = () => {
  let deployedApp: string | undefined;
  return defineOps({
    name: (pos) => `deploy ${pos[0] ?? ""}`.trim(),
    description: "deploy one app: new release, start, health wait, switch traffic, stop the previous release",
    usage: [
      "node packages/ops/prebuild/run.mjs deploy <app>   alone, under the deploy lock (the pipeline runs it per app with --pipeline)",
    ],
    arguments: ["app"],
    // An optional app this environment does not turn on: its turbo task prints one line and succeeds.
    skipWhen: ({ positionals, appsOff }) => (positionals[0] === undefined ? undefined : appsOff.get(positionals[0])),
    async run(ctx, { positionals }) {
      const app = positionals[0];
      deployedApp = app;
      if (!app || !ctx.config.apps[app]) {
        throw new UsageError(`deploy needs an app name${app ? `; "${app}" is not one` : ""}`, {
          fix: `Use one of: ${ctx.config.deployOrder.join(", ")}.`,
        });
      }
      const notHere = ctx.target.notRunHere?.(app);
      if (notHere) {
        ctx.reporter.emit({ kind: "info", message: notHere });
        return;
      }
      const started = new Date();
      if (ctx.flags.pipeline && !ctx.flags.dryRun) {
        const run = await joinRun(ctx, `deploy ${app}`);
        const syncDetail = ctx.runs.readSteps(run.runId)["sync-secrets"]?.detail as
          | { staged?: Record<string, AppFingerprints> }
          | undefined;
        // Targets that stage fingerprints (local) hand the deploy exactly what was staged; fly stages on Fly itself.
        const staged = stagedFor(ctx, run.runId, app);
        if (!syncDetail || (syncDetail.staged && !staged)) {
          throw new DeployError(`run ${run.runId} has no staged secrets for ${app}`, {
            fix: "The production-sync-secrets task must run first; start the whole pipeline with `pnpm turbo run production-deploy`.",
          });
        }
        // The read-only copy of this run's build (production-artifacts), not whatever apps/<app>/build holds now.
        const snapshot = recordedSnapshot(ctx.runs, run.runId, app);
        const { plan, outcome } = await ctx.target.planDeploy(app, run, staged, snapshot);
        await applyPlan(ctx, plan);
        const r = outcome();
        ctx.reporter.emit({ kind: "info", message: `${app}: release ${r.release} is serving (previous: ${r.previous ?? "none"})` });
        recordStep(ctx, run, `deploy-${app}`, started, { ...r.detail, ...(snapshot ? { artifact: snapshot.digest } : {}) });
        return;
      }
      if (ctx.flags.pipeline) {
        // As this run's deploy would go: the run id of this turbo invocation, the snapshot the artifacts step would make.
        printPlan(ctx, (await ctx.target.planDeploy(app, await newRun(ctx), undefined, snapshotToPlan(ctx, app))).plan);
        return;
      }
      await runStandalone(ctx, "deploy", async (run) => {
        const { plan, outcome } = await ctx.target.planDeploy(app, run, undefined);
        return {
          plan,
          result: () => {
            const r = outcome();
            ctx.reporter.emit({ kind: "info", message: `${app}: release ${r.release} is serving (previous: ${r.previous ?? "none"})` });
            return r;
          },
          record: () => ({ releases: { [app]: { from: outcome().previous, to: outcome().release } } }),
        };
      });
    },
    // In a run: roll back what the run changed (onDeployFailure), say what serves, mark the run.
    onFailure: (ctx, err) => handleDeployFailure(ctx, deployedApp, err),
  });
};
