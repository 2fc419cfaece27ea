import { rmSync } from "node:fs";
import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import { builtApps } from "../config/app-kind.ts";
import { UsageError } from "../errors.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { action, runPlan } from "../plan/plan.ts";

/**
 * The `production-clean` task: under the run's lock, before the builds, removes each built app's
 * outputs (`ops.config.ts` `apps.<app>.artifacts`). turbo restores a cached build over the output
 * folder without emptying it first, so files of an earlier build (an uncommitted change built
 * and reverted) stayed beside the restored ones and went into the build snapshot; with the
 * folder removed, what the build leaves is exactly this run's build.
 * @throws {UsageError} without `--pipeline`.
 */
export const cleanBuildsCommand = () =>
  defineOps({
    name: "clean-builds",
    description: "remove each built app's outputs before the pipeline's builds, so the snapshot holds only this run's build",
    usage: [
      "node packages/ops/prebuild/run.mjs clean-builds --pipeline   (the production-clean task of `pnpm turbo run production-deploy`)",
    ],
    async run(ctx) {
      if (!ctx.flags.pipeline) {
        throw new UsageError("clean-builds runs only as a task of the pipeline", {
          fix: "Run `pnpm turbo run production-deploy`.",
        });
      }
      const started = new Date();
      const run = ctx.flags.dryRun ? undefined : await joinRun(ctx, "clean-builds");
      const outputs = ctx.target.shipsBuildOutputs
        ? builtApps(ctx.config.deployOrder, ctx.config.apps).flatMap(({ built }) => built.artifacts.map((a) => join(built.dir, a)))
        : [];
      const actions = outputs.map((o) =>
        action("file", `remove ${o}: the build that follows (fresh, or turbo's cache restored) leaves only its own files`, () =>
          rmSync(join(ctx.env.repoRoot, o), { recursive: true, force: true }),
        ),
      );
      const notes = actions.length ? [] : [`${ctx.target.name} ships no local build: nothing to remove`];
      const applied = await runPlan(ctx, { step: "clean-builds", actions, notes });
      if (applied && run) recordStep(ctx, run, "clean-builds", started, { removed: outputs });
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "clean-builds", err),
  });
