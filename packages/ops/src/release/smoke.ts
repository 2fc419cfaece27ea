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

/** The releases `/healthz` can prove: those of built apps (an image-only app cannot report our release id). */
function provable(ctx: OpsContext, releases: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(releases).filter(([app]) => ctx.config.apps[app]?.image === undefined));
}

/** What the deployed releases must report: the given release per built app, and the schema version of the migrations folder. */
export async function smokeExpectations(ctx: OpsContext, releases: Record<string, string>): Promise<SmokeExpectations> {
  const files = await listMigrationFiles(join(ctx.env.repoRoot, ctx.config.migrationsDir));
  return { releases: provable(ctx, releases), schemaVersion: files.length };
}

/** The apps a `/healthz` of `app` can report: itself and the apps it links to, transitively (the client reports the backend it reaches). */
function reportedBy(ctx: OpsContext, app: string): Set<string> {
  const seen = new Set<string>();
  const visit = (a: string) => {
    if (seen.has(a) || !ctx.config.apps[a]) return;
    seen.add(a);
    for (const target of Object.values(ctx.config.apps[a]!.links)) visit(target);
  };
  visit(app);
  return seen;
}

/**
 * The declared checks grouped by the app they call, with its URL: the public URL for checks without
 * `app` (or naming the public app), the app's own URL otherwise. Checks of an app this target does
 * not run are left out and its one line is printed instead.
 */
function checksByApp(ctx: OpsContext): Map<string, { url: string; checks: OpsContext["config"]["smoke"]["checks"] }> {
  const { baseUrl, appUrls } = ctx.target.smokeTargets();
  const groups = new Map<string, { url: string; checks: OpsContext["config"]["smoke"]["checks"] }>();
  const said = new Set<string>();
  for (const check of ctx.config.smoke.checks) {
    const app = check.app ?? ctx.config.publicApp;
    const notHere = ctx.target.notRunHere?.(app);
    if (notHere) {
      if (!said.has(app)) ctx.reporter.emit({ kind: "info", message: notHere });
      said.add(app);
      continue;
    }
    const url = app === ctx.config.publicApp ? baseUrl : (appUrls?.[app] ?? baseUrl);
    groups.set(app, { url, checks: [...(groups.get(app)?.checks ?? []), check] });
  }
  return groups;
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
  const { baseUrl, mustNotAnswer } = ctx.target.smokeTargets();
  const s = ctx.config.smoke;
  ctx.reporter.emit({
    kind: "info",
    message: `smoke-checking ${baseUrl} (deadline ${s.deadlineMs} ms); expecting ${Object.entries(expect.releases)
      .map(([a, r]) => `${a}=${r}`)
      .join(", ")}`,
  });
  const internal = await Promise.all(mustNotAnswer.map((url) => checkNotPublic(url, s.attemptTimeoutMs)));
  const groups = await Promise.all(
    [...checksByApp(ctx)].map(([app, { url, checks }]) =>
      runSmokeChecks({
        baseUrl: url,
        checks,
        // A check proving releases proves those its app's /healthz can report; the schema version is
        // the public app's to prove (its /healthz reports the database-backed app it reaches).
        expect: {
          releases: Object.fromEntries(Object.entries(expect.releases).filter(([a]) => reportedBy(ctx, app).has(a))),
          ...(app === ctx.config.publicApp && expect.schemaVersion !== undefined ? { schemaVersion: expect.schemaVersion } : {}),
        },
        deadlineMs: s.deadlineMs,
        attemptTimeoutMs: s.attemptTimeoutMs,
        retryDelayMs: s.retryDelayMs,
        maxRetryDelayMs: s.maxRetryDelayMs,
        onRetry: (check, attempt, delayMs, reason) =>
          ctx.reporter.emit({ kind: "retry", what: `smoke ${check}`, attempt, delayMs, reason }),
      }),
    ),
  );
  const results = [...groups.flat(), ...internal];
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
  const { baseUrl, mustNotAnswer, appUrls } = ctx.target.smokeTargets();
  const checks = ctx.config.smoke.checks.filter((c) => !ctx.target.notRunHere?.(c.app ?? ctx.config.publicApp));
  const on = (c: (typeof checks)[number]) => (c.app && c.app !== ctx.config.publicApp && appUrls?.[c.app] ? ` on ${appUrls[c.app]}` : "");
  const proving = (c: (typeof checks)[number]) => {
    const reported = reportedBy(ctx, c.app ?? ctx.config.publicApp);
    return Object.entries(provable(ctx, releases))
      .filter(([a]) => reported.has(a))
      .map(([a, r]) => `${a}=${r}`)
      .join(", ");
  };
  return [
    action(
      "http",
      `smoke-check ${baseUrl} until every check passes or ${ctx.config.smoke.deadlineMs} ms pass: ${checks.map((c) => `GET ${c.path}${on(c)} → ${describeStatus(c.expectStatus)}${c.expectReleases ? ` proving ${proving(c)}` : ""}`).join("; ")}${mustNotAnswer.length ? `; ${mustNotAnswer.map((u) => `GET ${u} must not answer`).join("; ")}` : ""}`,
      async () => done(await smokeCheck(ctx, await smokeExpectations(ctx, releases), reportDir)),
      { timeoutMs: ctx.config.smoke.deadlineMs, path: join(reportDir, "smoke-report.json") },
    ),
  ];
}

/** `200`, or `200|204` when a check accepts several statuses. */
const describeStatus = (s: number | number[]) => (Array.isArray(s) ? s.join("|") : String(s));

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
