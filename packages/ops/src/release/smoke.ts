import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { OpsContext } from "../context.ts";
import { SmokeCheckError } from "../errors.ts";
import { httpGet } from "../local/health.ts";
import { writeJsonAtomic } from "../local/process-utils.ts";
import { listMigrationFiles } from "../migrations/validate-files.ts";
import { action, type Action } from "../plan/plan.ts";
import { runSmokeChecks, type SmokeAttempt, type SmokeCheckResult, type SmokeExpectations } from "../smoke/run-smoke.ts";
import type { AppRelease } from "../target/target.ts";

/** What the deployed releases must report: the given release per app, and the schema version of the migrations folder. */
export async function smokeExpectations(ctx: OpsContext, releases: Record<string, string>): Promise<SmokeExpectations> {
  const files = await listMigrationFiles(join(ctx.env.repoRoot, ctx.config.migrationsDir));
  return { releases, schemaVersion: files.length };
}

/** One GET that must get no HTTP answer at all (DNS failure, refused, timeout). */
async function checkNotPublic(url: string, timeoutMs: number): Promise<SmokeCheckResult> {
  const started = Date.now();
  const res = await httpGet(url, timeoutMs);
  const ok = res.status === 0;
  const detail = ok
    ? `no answer (${res.error ?? "unreachable"})`
    : `answered HTTP ${res.status}; an internal app must not be reachable publicly`;
  const at = Date.now();
  const attempt = {
    atMs: at - started,
    at: new Date(at).toISOString(),
    status: res.status,
    ...(ok ? { error: res.error ?? "unreachable" } : {}),
    outcome: ok ? ("pass" as const) : ("fail" as const),
    detail,
  };
  return {
    name: `not public: ${url}`,
    method: "GET",
    path: new URL(url).pathname,
    url,
    ok,
    attempts: [attempt],
    durationMs: at - started,
    ...(ok ? {} : { reason: detail }),
  };
}

/**
 * Runs the declared smoke checks against the target's public URL, prints a table and writes a
 * JSON report (mode 0600) to `<reportDir>/smoke-report.json`.
 * @returns the results and the report path.
 */
export async function smokeCheck(ctx: OpsContext, expect: SmokeExpectations, reportDir: string) {
  const { baseUrl, mustNotAnswer, nothingServes } = ctx.target.smokeTargets();
  const s = ctx.config.smoke;
  if (nothingServes) return reportSmoke(ctx, baseUrl, expect, reportDir, nothingAnswers(baseUrl, s.checks, nothingServes));
  ctx.reporter.emit({
    kind: "info",
    message: `smoke-checking ${baseUrl} (deadline ${s.deadlineMs} ms); expecting ${Object.entries(expect.releases)
      .map(([a, r]) => `${a}=${r}`)
      .join(", ")}`,
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
  return reportSmoke(ctx, baseUrl, expect, reportDir, results);
}

/** Each check failed at once, without a request: the target says no process can answer. */
function nothingAnswers(baseUrl: string, checks: { name: string; path: string }[], why: string): SmokeCheckResult[] {
  const at = new Date().toISOString();
  return checks.map((c) => ({
    name: c.name,
    method: "GET" as const,
    path: c.path,
    url: new URL(c.path, baseUrl).href,
    ok: false,
    attempts: [{ atMs: 0, at, status: 0, error: "nothing serves", outcome: "fail" as const, detail: why }],
    durationMs: 0,
    reason: `not tried: ${why}`,
  }));
}

/** Prints the results table, writes the JSON report (mode 0600) and emits the result event. */
function reportSmoke(ctx: OpsContext, baseUrl: string, expect: SmokeExpectations, reportDir: string, results: SmokeCheckResult[]) {
  ctx.reporter.emit({
    kind: "table",
    title: "Smoke checks",
    columns: ["CHECK", "RESULT", "ATTEMPTS", "TIME", "DETAIL"],
    rows: results.map((r) => [
      r.name,
      r.ok ? "pass" : "FAIL",
      String(r.attempts.length),
      `${(r.durationMs / 1000).toFixed(1)}s`,
      r.ok ? r.attempts.at(-1)!.detail : (r.reason ?? ""),
    ]),
  });
  mkdirSync(reportDir, { recursive: true });
  const reportPath = join(reportDir, "smoke-report.json");
  writeJsonAtomic(reportPath, { url: baseUrl, expect, results, at: new Date().toISOString() }, 0o600);
  ctx.reporter.emit({ kind: "result", step: "smoke", data: { ok: results.every((r) => r.ok), results, reportPath } });
  return { results, reportPath };
}

/** The smoke checks as one plan action per declared check (they run together, under one deadline). */
export function smokeActions(
  ctx: OpsContext,
  releases: Record<string, string>,
  reportDir: string,
  done: (r: Awaited<ReturnType<typeof smokeCheck>>) => void,
): Action[] {
  const { baseUrl, mustNotAnswer } = ctx.target.smokeTargets();
  const checks = ctx.config.smoke.checks;
  const proving = Object.entries(releases)
    .map(([a, r]) => `${a}=${r}`)
    .join(", ");
  return [
    action(
      "http",
      `smoke-check ${baseUrl} until every check passes or ${ctx.config.smoke.deadlineMs} ms pass: ${checks.map((c) => `GET ${c.path} → ${c.expectStatus}${c.expectReleases ? ` proving ${proving}` : ""}`).join("; ")}${mustNotAnswer.length ? `; ${mustNotAnswer.map((u) => `GET ${u} must not answer`).join("; ")}` : ""}`,
      async () => done(await smokeCheck(ctx, await smokeExpectations(ctx, releases), reportDir)),
      { timeoutMs: ctx.config.smoke.deadlineMs, path: join(reportDir, "smoke-report.json") },
    ),
  ];
}

/** One attempt as a line: wall-clock time, time since the check started, what came back (status or error) and the verdict. */
const attemptLine = (a: SmokeAttempt) => {
  const got = a.status === 0 ? `no response (${a.error ?? "connection failed"})` : `HTTP ${a.status}`;
  return `${a.at} (+${(a.atMs / 1000).toFixed(1)}s): ${a.detail.startsWith(got) ? a.detail : `${got}: ${a.detail}`}`;
};

/**
 * The error of failed smoke checks. For each failed check: its name, method and URL path (and
 * the host), why it failed, and its last 3 attempts, each with its time and its status or error.
 * The report at `reportPath` holds every attempt.
 */
export function smokeFailure(results: SmokeCheckResult[], reportPath: string): SmokeCheckError {
  const failed = results.filter((r) => !r.ok);
  const lines = failed.flatMap((r) => {
    const last = r.attempts.slice(-3);
    return [
      `  ${r.name}: ${r.method} ${r.path} on ${new URL(r.url).host} failed after ${r.attempts.length} attempt${r.attempts.length > 1 ? "s" : ""}: ${r.reason ?? "no reason recorded"}`,
      `    last ${last.length} attempt${last.length > 1 ? "s" : ""}:`,
      ...last.map((a) => `      ${attemptLine(a)}`),
    ];
  });
  return new SmokeCheckError(`${failed.length} smoke check${failed.length > 1 ? "s" : ""} failed:\n${lines.join("\n")}`, {
    where: reportPath,
    fix: `Every attempt is in ${reportPath}. Roll back with \`pnpm ops:rollback\` if the release is bad.`,
  });
}

/** Apps deployed in a run: its `deploy-<app>` step records, in deploy order. */
export function deployedInRun(ctx: OpsContext, runId: string): (AppRelease & Record<string, unknown>)[] {
  const steps = ctx.runs.readSteps(runId);
  return ctx.config.deployOrder
    .map((app) => steps[`deploy-${app}`]?.detail as (AppRelease & Record<string, unknown>) | undefined)
    .filter((d): d is AppRelease & Record<string, unknown> => Boolean(d));
}
