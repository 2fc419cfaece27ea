import { appendFileSync } from "node:fs";
import { defineOps } from "../cli/run-ops.ts";
import { deployReportMarkdown } from "../output/report.ts";
import { closeRun, failCurrentRun, historyOf, joinRun } from "../pipeline/run.ts";
import type { OpsContext } from "../context.ts";
import { DeployError, UsageError } from "../errors.ts";
import { flyTarget } from "../fly/context.ts";

/**
 * C-09: an app that got staged secrets in this run but was not deployed in it (filtered out, or
 * nothing to deploy) still runs the old values. Apply them with `fly secrets deploy`; if that is
 * impossible (no machines yet), fail saying so.
 */
export async function applyStagedSecretsOfSkippedApps(ctx: OpsContext, runId: string): Promise<string[]> {
  if (ctx.env.target !== "fly") return [];
  const steps = ctx.runs.readSteps(runId);
  const staged = (steps["sync-secrets"]?.detail as { stagedFly?: Record<string, string[]> } | undefined)?.stagedFly ?? {};
  const skipped = Object.entries(staged).filter(([app, keys]) => keys.length > 0 && !steps[`deploy-${app}`]).map(([app]) => app);
  const { provider } = flyTarget(ctx);
  for (const app of skipped) {
    ctx.reporter.emit({ kind: "info", message: `${provider.flyApp(app)} has staged secrets (${staged[app]!.join(", ")}) but was not deployed in this run; applying them with fly secrets deploy` });
    try {
      await provider.deployStagedSecrets(app);
    } catch (err) {
      throw new DeployError(`${provider.flyApp(app)} still runs the old values of ${staged[app]!.join(", ")}: ${(err as Error).message}`, {
        where: provider.flyApp(app),
        fix: `Deploy it (pnpm turbo run production-deploy, unfiltered) or run \`fly secrets deploy -a ${provider.flyApp(app)}\` once it has machines.`,
      });
    }
  }
  return skipped;
}

/**
 * The `production-deploy` task, the last node of the graph: records the release in the deploy
 * history, writes the deploy report (also to $GITHUB_STEP_SUMMARY when set), releases the lock.
 */
export const finishCommand = () =>
  defineOps({
    name: "finish",
    description: "record the release in the deploy history, write the report and release the deploy lock",
    async run(ctx) {
      const runId = ctx.flags.pipeline ? ctx.runs.currentRunId() : undefined;
      const open = runId ? ctx.runs.read(runId) : undefined;
      let dryRun = ctx.flags.dryRun;
      // `turbo run production-deploy -- --dry-run` hands the flag to this last task only: the
      // others really ran. Close the run (so its lock is not left held), then fail loudly.
      const misusedDryRun = dryRun && open?.status === "running" && !ctx.env.dryRun;
      if (misusedDryRun) dryRun = false;
      if (dryRun || !ctx.flags.pipeline) {
        ctx.reporter.emit({ kind: "plan", step: "finish", items: ["record the run in ops.deploy_history", "write the deploy report", "release the deploy lock"] });
        return;
      }
      const run = await joinRun(ctx, "finish");
      await applyStagedSecretsOfSkippedApps(ctx, run.runId);
      const final = await closeRun(ctx, run, "succeeded");
      const steps = ctx.runs.readSteps(run.runId);
      const entry = historyOf(final, "deploy", steps);
      const markdown = deployReportMarkdown(entry, steps);
      const path = ctx.runs.writeFile(run.runId, "report.md", markdown);
      if (ctx.env.githubStepSummary) appendFileSync(ctx.env.githubStepSummary, `${markdown}\n`);
      ctx.reporter.emit({
        kind: "table",
        title: `Deploy ${run.runId} succeeded`,
        columns: ["APP", "PREVIOUS", "RELEASE"],
        rows: Object.entries(entry.releases).map(([app, r]) => [app, r.from ?? "-", r.to ?? "-"]),
      });
      ctx.reporter.emit({
        kind: "table",
        title: "Steps",
        columns: ["STEP", "RESULT", "TIME"],
        rows: Object.values(steps)
          .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
          .map((s) => [s.step, s.status, `${(s.durationMs / 1000).toFixed(1)}s`]),
      });
      ctx.reporter.emit({ kind: "info", message: `report: ${path}; migrations applied: ${entry.migrationsApplied.join(", ") || "none"}; deploy lock released` });
      if (misusedDryRun) {
        throw new UsageError(`this was NOT a dry run: --dry-run reached only this last task (turbo passes arguments after -- to the task named on the command line), so run ${run.runId} really deployed`, {
          fix: "For a dry run of the whole pipeline use OPS_DRY_RUN=1 pnpm turbo run production-deploy. To undo this deploy: pnpm ops:rollback.",
        });
      }
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "finish", err),
  });
