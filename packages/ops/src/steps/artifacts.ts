import { join } from "node:path";
import { ARTIFACTS_STEP, artifactStore, pruneSnapshots, snapshotArtifacts, type ArtifactSnapshot } from "../artifacts/snapshot.ts";
import { defineOps } from "../cli/run-ops.ts";
import { builtApps } from "../config/app-kind.ts";
import type { OpsContext } from "../context.ts";
import { UsageError } from "../errors.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { action, runPlan, type Action } from "../plan/plan.ts";

/** The snapshot actions of every app in deploy order; each fills `out[app]` once applied. */
function snapshotActions(ctx: OpsContext, out: Record<string, ArtifactSnapshot>): Action[] {
  const store = artifactStore(ctx.env.stateDir, ctx.env.environment);
  // An image-only app has no build of ours to snapshot.
  return builtApps(ctx.config.deployOrder, ctx.config.apps).map(({ app, built: cfg }) => {
    const sources = cfg.artifacts.map((a) => `${cfg.dir}/${a}`).join(", ");
    return action(
      "file",
      `snapshot ${sources} into ${join(store, app)}/<sha256 of the content> (read-only; the deploy of ${app} ships this copy)`,
      () => {
        const snap = snapshotArtifacts({ app, appDir: join(ctx.env.repoRoot, cfg.dir), artifacts: cfg.artifacts, store });
        out[app] = snap;
        const removed = pruneSnapshots(store, app, snap.digest);
        ctx.reporter.emit({
          kind: "info",
          message: `${app}: build snapshot ${snap.digest.slice(0, 19)}… (${snap.files} files, ${snap.bytes} bytes)${removed.length ? `; removed ${removed.length} older snapshot${removed.length > 1 ? "s" : ""}` : ""}`,
        });
      },
      { path: join(store, app) },
    );
  });
}

/**
 * The `production-artifacts` task: runs right after the pipeline's builds (which wait for the
 * deploy lock) and before any deploy. On a target that ships local builds (local), copies each
 * app's build output into a read-only snapshot named by the SHA-256 of its content and records the
 * snapshots in the run, so each deploy ships what this run built even if `apps/<app>/build` is
 * rewritten meanwhile; elsewhere (fly builds remotely) it only records that there is none.
 * @throws {UsageError} without `--pipeline`; {DeployError} when a build output is missing.
 */
export const artifactsCommand = () =>
  defineOps({
    name: "artifacts",
    description: "snapshot each app's build output (read-only, named by its content digest) for the deploys of this run",
    usage: ["tsx scripts/artifacts.ts --pipeline   (the production-artifacts task of `pnpm turbo run production-deploy`)"],
    async run(ctx) {
      if (!ctx.flags.pipeline) {
        throw new UsageError("artifacts runs only as a task of the pipeline", {
          fix: "Run `pnpm turbo run production-deploy`; a deploy alone (`tsx scripts/deploy.ts <app>`) copies the current build.",
        });
      }
      const started = new Date();
      const snapshots: Record<string, ArtifactSnapshot> = {};
      const run = ctx.flags.dryRun ? undefined : await joinRun(ctx, "artifacts");
      const actions = ctx.target.shipsBuildOutputs ? snapshotActions(ctx, snapshots) : [];
      const notes = actions.length ? [] : [`${ctx.target.name} builds each app from its source: no local build to snapshot`];
      const applied = await runPlan(ctx, { step: "artifacts", actions, notes });
      if (applied && run) recordStep(ctx, run, ARTIFACTS_STEP, started, { snapshots });
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "artifacts", err),
  });
