import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { DeployError, UsageError } from "../errors.ts";
import { LocalProvider, type AppRelease } from "../local/provider.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { withStandaloneRun } from "../pipeline/standalone.ts";
import { SecretLedger, type AppFingerprints } from "../secrets/ledger.ts";
import { resolveLocalSecrets } from "../secrets/local-source.ts";
import type { Secret } from "../secrets/secret.ts";
import type { RunRecord } from "../state/run-state.ts";
import { flyDeploy } from "../commands/fly.ts";
import { displayCommand } from "../runner/types.ts";
import { flyTarget } from "../fly/context.ts";
import type { FlyAppRelease } from "../fly/provider.ts";

/** The app's declared secrets, checked against what the sync step staged for this run. */
function appSecrets(ctx: OpsContext, app: string, staged: AppFingerprints | undefined): Map<string, Secret> {
  const resolved = resolveLocalSecrets(ctx.config, ctx.env, { create: staged === undefined });
  for (const v of resolved.values.values()) ctx.addSecret(v);
  const keys = ctx.config.apps[app]!.secrets;
  if (staged) {
    const now = new SecretLedger(ctx.env.stateDir, ctx.env.environment).fingerprints(keys, resolved.values);
    const moved = keys.filter((k) => now[k] !== staged[k]);
    if (moved.length > 0) {
      throw new DeployError(`secrets of ${app} changed after the sync step staged them: ${moved.join(", ")}`, {
        fix: "Start a new run so the new values are staged and checked: `pnpm turbo run production-deploy`.",
      });
    }
  }
  return new Map(keys.map((k) => [k, resolved.values.get(k)!]));
}

function planItems(ctx: OpsContext, app: string, provider: LocalProvider): string[] {
  const cfg = ctx.config.apps[app]!;
  return [
    `copy ${cfg.artifacts.map((a) => `${cfg.dir}/${a}`).join(", ")} into a new release folder`,
    `start it on a free loopback port with ${cfg.secrets.length} secrets (${cfg.secrets.join(", ") || "none"})`,
    `wait up to ${cfg.health.timeoutMs} ms for ${cfg.health.kind === "grpc" ? "gRPC health SERVING" : `${cfg.health.path} to report the new release`}`,
    `route 127.0.0.1:${provider.publicPort(app)} to it, then stop the previous release (${provider.currentRelease(app) ?? "none"})`,
  ];
}

async function deployApp(ctx: OpsContext, app: string, run: RunRecord, staged: AppFingerprints | undefined): Promise<AppRelease> {
  const provider = new LocalProvider(ctx.config, ctx.env);
  const secrets = appSecrets(ctx, app, staged);
  const result = await provider.deploy({
    app,
    releaseId: run.runId,
    gitSha: run.gitSha,
    runId: run.runId,
    secrets,
    onProgress: (message) => ctx.reporter.emit({ kind: "info", message }),
  });
  const ledger = new SecretLedger(ctx.env.stateDir, ctx.env.environment);
  ledger.recordDeployed(app, ledger.fingerprints(ctx.config.apps[app]!.secrets, secrets));
  ctx.reporter.emit({ kind: "info", message: `${app}: release ${result.release} is serving (previous: ${result.previous ?? "none"})` });
  return result;
}

/**
 * `scripts/deploy.ts <app>` / the `<app>#deploy` task: deploys one app to the target. In a
 * pipeline run it uses the run's release id and the secrets the sync step staged; alone it takes
 * the deploy lock itself.
 * @throws {DeployError} when the build is missing, secrets moved, or the release is not healthy in time (the previous release keeps serving).
 */
export const deployCommand = () =>
  defineOps({
    name: (pos) => `deploy ${pos[0] ?? ""}`.trim(),
    description: "deploy one app: new release folder, start, health wait, switch traffic, stop the previous release",
    usage: ["tsx scripts/deploy.ts <app>   alone, under the deploy lock (the pipeline runs it per app with --pipeline)"],
    async run(ctx, { positionals }) {
      const app = positionals[0];
      if (!app || !ctx.config.apps[app]) {
        throw new UsageError(`deploy needs an app name${app ? `; "${app}" is not one` : ""}`, { fix: `Use one of: ${ctx.config.deployOrder.join(", ")}.` });
      }
      if (ctx.env.target === "fly") return deployFly(ctx, app);
      const provider = new LocalProvider(ctx.config, ctx.env);
      if (ctx.flags.dryRun) {
        ctx.reporter.emit({ kind: "plan", step: `deploy ${app}`, items: planItems(ctx, app, provider) });
        return;
      }
      const started = new Date();
      if (ctx.flags.pipeline) {
        const run = await joinRun(ctx, `deploy ${app}`);
        const staged = (ctx.runs.readSteps(run.runId)["sync-secrets"]?.detail as { staged?: Record<string, AppFingerprints> } | undefined)?.staged?.[app];
        if (!staged) {
          throw new DeployError(`run ${run.runId} has no staged secrets for ${app}`, { fix: "The production-sync-secrets task must run first; start the whole pipeline with `pnpm turbo run production-deploy`." });
        }
        const result = await deployApp(ctx, app, run, staged);
        recordStep(ctx, run, `deploy-${app}`, started, { ...result });
        return;
      }
      await withStandaloneRun(ctx, "deploy", async (run) => {
        const result = await deployApp(ctx, app, run, undefined);
        return { result, releases: { [app]: { from: result.previous, to: result.release } } };
      });
    },
    onFailure: (ctx, err) => failCurrentRun(ctx, "deploy", err),
  });

/** What a deploy step records, the same shape on both targets (`previous`/`release` are release ids). */
function flyStepDetail(r: FlyAppRelease) {
  return {
    app: r.app,
    flyApp: r.flyApp,
    previous: r.previous ? (r.previous.release ?? `v${r.previous.version}`) : null,
    previousVersion: r.previous?.version ?? null,
    previousImage: r.previous?.imageRef ?? null,
    release: r.release,
    version: r.version,
    imageRef: r.imageRef,
  };
}

async function deployFly(ctx: OpsContext, app: string): Promise<void> {
  const { provider, appsEnv } = flyTarget(ctx);
  const cfg = ctx.config.apps[app]!;
  if (!cfg.fly) throw new UsageError(`apps.${app}.fly is not set in ops.config.ts`, { fix: "Give the app a fly.toml: fly: { config, public }." });
  if (ctx.flags.dryRun) {
    const cmd = flyDeploy({ app: provider.flyApp(app), config: cfg.fly.config, strategy: appsEnv.strategy, waitTimeout: appsEnv.waitTimeout, imageLabel: "<run id>", noPublicIps: !cfg.fly.public, env: { RELEASE_ID: "<run id>" } });
    ctx.reporter.emit({ kind: "plan", step: `deploy ${app}`, items: [`capture the current release of ${provider.flyApp(app)} (fly releases --json)`, displayCommand(cmd), ...(cfg.fly.public ? [] : [`check fly ips list --json shows no public address`])] });
    return;
  }
  const started = new Date();
  if (ctx.flags.pipeline) {
    const run = await joinRun(ctx, `deploy ${app}`);
    const result = await provider.deploy(app, run.runId);
    recordStep(ctx, run, `deploy-${app}`, started, flyStepDetail(result));
    return;
  }
  await withStandaloneRun(ctx, "deploy", async (run) => {
    const result = await provider.deploy(app, run.runId);
    return { result, releases: { [app]: { from: flyStepDetail(result).previous, to: result.release } } };
  });
}
