import type { SmokeCheckConfig } from "../config/schema.ts";
import { healthzApp, httpGet, type HealthzBody } from "../local/health.ts";

/** What a smoke check must see in `/healthz` to prove the deploy (C-23). */
export interface SmokeExpectations {
  /** Release id each app must report: `{ client: "…", backend: "…" }` (keys are the healthz JSON keys). */
  releases: Record<string, string>;
  /** Schema version the app reporting one in `/healthz` must report (number of migration files). */
  schemaVersion?: number;
}

/** One HTTP attempt, as recorded for the report. */
export interface SmokeAttempt {
  /** Milliseconds since the check started, when the answer (or the error) came. */
  atMs: number;
  /** The same moment as wall-clock time (ISO 8601). */
  at: string;
  /** HTTP status; 0 when no response arrived (see `error`). */
  status: number;
  /** Why no response arrived (`ECONNREFUSED`, a timeout), when `status` is 0. */
  error?: string;
  outcome: "pass" | "retry" | "fail";
  detail: string;
}

export interface SmokeCheckResult {
  name: string;
  /** The HTTP method of every attempt. */
  method: "GET";
  /** The path of the check's URL (`/healthz`), as declared. */
  path: string;
  url: string;
  ok: boolean;
  attempts: SmokeAttempt[];
  durationMs: number;
  /** Why it failed, from the last attempt. */
  reason?: string;
}

export interface SmokeOptions {
  baseUrl: string;
  checks: SmokeCheckConfig[];
  expect: SmokeExpectations;
  /** Deadline for all checks, retries included, in milliseconds. */
  deadlineMs: number;
  attemptTimeoutMs: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  /** Injected for tests: the HTTP GET and the sleep. */
  get?: (url: string, timeoutMs: number) => Promise<{ status: number; body: string; error?: string }>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onRetry?: (check: string, attempt: number, delayMs: number, reason: string) => void;
}

type Verdict = { outcome: "pass" | "retry" | "fail"; detail: string };

/**
 * Judges one response. Connection errors and 5xx are transient (retry); a 200 from the wrong
 * release is retried too (the old release may still answer during the switch) but never passes;
 * any other status fails at once.
 */
export function judge(check: SmokeCheckConfig, res: { status: number; body: string; error?: string }, expect: SmokeExpectations): Verdict {
  if (res.status === 0) return { outcome: "retry", detail: `no response (${res.error ?? "connection failed"})` };
  if (res.status >= 500) return { outcome: "retry", detail: `HTTP ${res.status}` };
  const wanted = Array.isArray(check.expectStatus) ? check.expectStatus : [check.expectStatus];
  if (!wanted.includes(res.status)) return { outcome: "fail", detail: `HTTP ${res.status}, expected ${wanted.join(" or ")}` };
  if (check.expectText && !res.body.includes(check.expectText))
    return { outcome: "fail", detail: `body does not contain "${check.expectText}"` };
  if (!check.expectReleases) return { outcome: "pass", detail: `HTTP ${res.status}` };
  let body: HealthzBody;
  try {
    body = JSON.parse(res.body) as HealthzBody;
  } catch {
    return { outcome: "fail", detail: "body is not JSON; cannot prove which release answered" };
  }
  for (const [app, release] of Object.entries(expect.releases)) {
    const got = healthzApp(body, app)?.release ?? null;
    if (got !== release) return { outcome: "retry", detail: `${app} reports release ${got ?? "(none)"}, expected ${release}` };
  }
  const apps = Object.keys(body).flatMap((app) => {
    const entry = healthzApp(body, app);
    return entry ? [{ app, entry }] : [];
  });
  const notServing = apps.find(({ entry }) => entry.status !== undefined && entry.status !== "SERVING");
  if (notServing) return { outcome: "retry", detail: `${notServing.app} ${notServing.entry.status}` };
  if (expect.schemaVersion !== undefined) {
    const reporter = apps.find(({ entry }) => entry.schemaVersion !== undefined);
    if (reporter?.entry.schemaVersion !== expect.schemaVersion) {
      return { outcome: "fail", detail: `schema version ${reporter?.entry.schemaVersion ?? "(none)"}, expected ${expect.schemaVersion}` };
    }
  }
  return { outcome: "pass", detail: `HTTP 200, releases ${Object.values(expect.releases).join(", ")}` };
}

async function runCheck(check: SmokeCheckConfig, opts: SmokeOptions, deadline: number): Promise<SmokeCheckResult> {
  const get = opts.get ?? httpGet;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const url = new URL(check.path, opts.baseUrl).toString();
  const startedAt = now();
  const attempts: SmokeAttempt[] = [];
  let delay = opts.retryDelayMs;
  for (;;) {
    const res = await get(url, Math.max(1, Math.min(opts.attemptTimeoutMs, deadline - now())));
    const verdict = judge(check, res, opts.expect);
    const t = now();
    attempts.push({
      atMs: t - startedAt,
      at: new Date(t).toISOString(),
      status: res.status,
      ...(res.status === 0 ? { error: res.error ?? "connection failed" } : {}),
      ...verdict,
    });
    if (verdict.outcome === "pass")
      return { name: check.name, method: "GET", path: check.path, url, ok: true, attempts, durationMs: now() - startedAt };
    if (verdict.outcome === "fail" || now() + delay > deadline) {
      return {
        name: check.name,
        method: "GET",
        path: check.path,
        url,
        ok: false,
        attempts,
        durationMs: now() - startedAt,
        reason: verdict.outcome === "fail" ? verdict.detail : `deadline of ${opts.deadlineMs} ms reached; last: ${verdict.detail}`,
      };
    }
    opts.onRetry?.(check.name, attempts.length, delay, verdict.detail);
    await sleep(delay);
    delay = Math.min(delay * 2, opts.maxRetryDelayMs);
  }
}

/** Runs every check concurrently under one overall deadline. Never throws. */
export async function runSmokeChecks(opts: SmokeOptions): Promise<SmokeCheckResult[]> {
  const deadline = (opts.now ?? Date.now)() + opts.deadlineMs;
  return Promise.all(opts.checks.map((c) => runCheck(c, opts, deadline)));
}
