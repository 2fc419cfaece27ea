import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { defineOps } from "../cli/run-ops.ts";
import type { OpsContext } from "../context.ts";
import { SmokeCheckError } from "../errors.ts";
import { LocalProvider, type AppRelease } from "../local/provider.ts";
import { writeJsonAtomic } from "../local/process-utils.ts";
import { listMigrationFiles } from "../migrations/validate-files.ts";
import { failCurrentRun, joinRun, recordStep } from "../pipeline/run.ts";
import { runSmokeChecks, type SmokeCheckResult, type SmokeExpectations } from "../smoke/run-smoke.ts";
import { rollbackApps } from "./rollback.ts";
import { flyTarget } from "../fly/context.ts";
import { httpGet } from "../local/health.ts";
import { currentRelease, releaseIdOfImage } from "../fly/releases.ts";

/** The release id each app serves now (local: app state; fly: the tag of the image of its newest complete release). */
export async function currentReleases(ctx: OpsContext): Promise<Record<string, string>> {
  if (ctx.env.target === "fly") {
    const { provider } = flyTarget(ctx);
    const out: Record<string, string> = {};
    for (const app of ctx.config.deployOrder) {
      const cur = currentRelease(await provider.releases(app));
      out[app] = cur ? (releaseIdOfImage(cur.ImageRef) ?? `v${cur.Version}`) : "(none)";
    }
    return out;
  }
  const provider = new LocalProvider(ctx.config, ctx.env);
  return Object.fromEntries(ctx.config.deployOrder.map((app) => [app, provider.currentRelease(app) ?? "(none)"]));
}

/** What the deployed releases must report: in a run, the releases it deployed; alone, what serves now. */
export async function smokeExpectations(ctx: OpsContext, releases: Record<string, string>): Promise<SmokeExpectations> {
  const files = await listMigrationFiles(join(ctx.env.repoRoot, ctx.config.migrationsDir));
  return { releases, schemaVersion: files.length };
}

/**
 * Runs the declared smoke checks against the public app, prints a table and writes a JSON report.
 * @returns the results and the report path.
 */
export async function smokeCheck(ctx: OpsContext, expect: SmokeExpectations, reportDir: string) {
  const { baseUrl, mustNotAnswer } = smokeTargets(ctx);
  const s = ctx.config.smoke;
  ctx.reporter.emit({
    kind: "info",
    message: `smoke-checking ${baseUrl} (deadline ${s.deadlineMs} ms); expecting ${Object.entries(expect.releases).map(([a, r]) => `${a}=${r}`).join(", ")}`,
  });
  const internal = await Promise.all(mustNotAnswer.map((url) => checkNotPublic(url, s.attemptTimeoutMs)));
  const results = await runSmokeChecks({
    baseUrl,
    checks: s.checks,
    expect,
    deadlineMs: s.deadlineMs,
    attemptTimeoutMs: s.attemptTimeoutMs,
    retryDelayMs: s.retryDelayMs,
    maxRetryDelayMs: s.maxRetryDelayMs,
    onRetry: (check, attempt, delayMs, reason) => ctx.reporter.emit({ kind: "retry", what: `smoke ${check}`, attempt, delayMs, reason }),
  }).then((r) => [...r, ...internal]);
  ctx.reporter.emit({
    kind: "table",
    title: "Smoke checks",
    columns: ["CHECK", "RESULT", "ATTEMPTS", "TIME", "DETAIL"],
    rows: results.map((r) => [r.name, r.ok ? "pass" : "FAIL", String(r.attempts.length), `${(r.durationMs / 1000).toFixed(1)}s`, r.ok ? r.attempts.at(-1)!.detail : r.reason ?? ""]),
  });
  mkdirSync(reportDir, { recursive: true });
  const reportPath = join(reportDir, "smoke-report.json");
  writeJsonAtomic(reportPath, { url: baseUrl, expect, results, at: new Date().toISOString() }, 0o600);
  ctx.reporter.emit({ kind: "result", step: "smoke", data: { ok: results.every((r) => r.ok), results, reportPath } });
  return { results, reportPath };
}

function failure(results: SmokeCheckResult[], reportPath: string): SmokeCheckError {
  const failed = results.filter((r) => !r.ok);
  const last = failed.flatMap((r) => r.attempts.slice(-3).map((a) => `${r.name} @${(a.atMs / 1000).toFixed(1)}s: ${a.detail}`));
  return new SmokeCheckError(`${failed.length} smoke check${failed.length > 1 ? "s" : ""} failed: ${failed.map((r) => `${r.name} (${r.reason})`).join("; ")}`, {
    where: reportPath,
    fix: `Last attempts:\n    ${last.join("\n    ")}\n  Roll back with \`pnpm ops:rollback\` if the release is bad.`,
  });
}

/** Where the smoke checks go: the public app's URL, and URLs that must not answer (an internal app's public hostname, C-22). */
export function smokeTargets(ctx: OpsContext): { baseUrl: string; mustNotAnswer: string[] } {
  if (ctx.env.target === "fly") {
    const { appsEnv } = flyTarget(ctx);
    return { baseUrl: appsEnv.publicUrl, mustNotAnswer: appsEnv.mustNotAnswer };
  }
  return { baseUrl: new LocalProvider(ctx.config, ctx.env).publicUrl(), mustNotAnswer: [] };
}

/** One GET that must get no HTTP answer at all (DNS failure, refused, timeout). */
async function checkNotPublic(url: string, timeoutMs: number): Promise<SmokeCheckResult> {
  const started = Date.now();
  const res = await httpGet(url, timeoutMs);
  const ok = res.status === 0;
  const detail = ok ? `no answer (${res.error ?? "unreachable"})` : `answered HTTP ${res.status}; an internal app must not be reachable publicly`;
  return { name: `not public: ${url}`, url, ok, attempts: [{ atMs: Date.now() - started, status: res.status, outcome: ok ? "pass" : "fail", detail }], durationMs: Date.now() - started, ...(ok ? {} : { reason: detail }) };
}

/** Apps deployed in a run: `deploy-<app>` step records with previous/release. */
function deployedInRun(ctx: OpsContext, runId: string): AppRelease[] {
  const steps = ctx.runs.readSteps(runId);
  return ctx.config.deployOrder.map((app) => steps[`deploy-${app}`]?.detail as AppRelease | undefined).filter((d): d is AppRelease => Boolean(d));
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
      if (ctx.flags.pipeline && !ctx.flags.dryRun) {
        const run = await joinRun(ctx, "smoke");
        const deployed = deployedInRun(ctx, run.runId);
        const current = deployed.length === ctx.config.deployOrder.length ? {} : await currentReleases(ctx);
        const releases = Object.fromEntries(ctx.config.deployOrder.map((app) => [app, deployed.find((d) => d.app === app)?.release ?? current[app] ?? "(none)"]));
        const { results, reportPath } = await smokeCheck(ctx, await smokeExpectations(ctx, releases), join(ctx.env.stateDir, "runs", run.runId));
        recordStep(ctx, run, "smoke", started, { ok: results.every((r) => r.ok), reportPath }, results.every((r) => r.ok) ? "succeeded" : "failed");
        if (!results.every((r) => r.ok)) throw failure(results, reportPath);
        return;
      }
      const releases = await currentReleases(ctx);
      if (ctx.flags.dryRun) {
        const { baseUrl, mustNotAnswer } = smokeTargets(ctx);
        ctx.reporter.emit({ kind: "plan", step: "smoke", items: [...ctx.config.smoke.checks.map((c) => `GET ${baseUrl}${c.path} → ${c.expectStatus}${c.expectReleases ? ` proving ${Object.entries(releases).map(([a, r]) => `${a}=${r}`).join(", ")}` : ""}`), ...mustNotAnswer.map((u) => `GET ${u} must not answer`)] });
        return;
      }
      const { results, reportPath } = await smokeCheck(ctx, await smokeExpectations(ctx, releases), join(ctx.env.stateDir, "smoke", ctx.env.environment, new Date().toISOString().replace(/[:.]/g, "-")));
      if (!results.every((r) => r.ok)) throw failure(results, reportPath);
    },
    async onFailure(ctx, err) {
      if (!ctx.flags.pipeline || ctx.flags.dryRun) return;
      const runId = ctx.runs.currentRunId();
      if (!runId || !(err instanceof SmokeCheckError)) return failCurrentRun(ctx, "smoke", err);
      if (ctx.env.target === "local") {
        const provider = new LocalProvider(ctx.config, ctx.env);
        for (const d of deployedInRun(ctx, runId)) provider.markFailed(d.app, d.release);
      }
      const deployed = deployedInRun(ctx, runId).filter((d) => d.previous && d.previous !== d.release);
      if (!ctx.env.autoRollback || deployed.length === 0) {
        ctx.reporter.emit({ kind: "warn", message: ctx.env.autoRollback ? "nothing to roll back: no app of this run had a previous release" : "automatic rollback is off (OPS_AUTO_ROLLBACK=false)", fix: "Roll back by hand with `pnpm ops:rollback` if needed." });
        return failCurrentRun(ctx, "smoke", err);
      }
      ctx.reporter.emit({ kind: "info", message: `rolling back ${deployed.map((d) => `${d.app} ${d.release} → ${d.previous}`).join(", ")}` });
      try {
        const back = await rollbackApps(ctx, deployed.map((d) => ({ app: d.app, to: ctx.env.target === "fly" ? `v${(d as { previousVersion?: number }).previousVersion}` : d.previous! })));
        ctx.reporter.emit({ kind: "info", message: `rolled back: ${back.map((b) => `${b.app} now serves ${b.release}`).join(", ")}` });
        await failCurrentRun(ctx, "smoke", err, "rolled-back");
      } catch (rollbackErr) {
        ctx.reporter.emit({ kind: "warn", message: `automatic rollback failed: ${(rollbackErr as Error).message}`, fix: "Run `pnpm ops:status` to see what serves, then `pnpm ops:rollback --to <release>`." });
        await failCurrentRun(ctx, "smoke", err);
      }
    },
  });
