import { describe, expect, it } from "vitest";
import type { SmokeCheckConfig } from "../../src/config/schema.ts";
import { smokeFailure } from "../../src/release/smoke.ts";
import { SmokeCheckError } from "../../src/errors.ts";
import { judge, runSmokeChecks, type SmokeExpectations, type SmokeOptions } from "../../src/smoke/run-smoke.ts";

const healthz: SmokeCheckConfig = { name: "healthz proves the release", path: "/healthz", expectStatus: 200, expectReleases: true };
const home: SmokeCheckConfig = { name: "home page", path: "/", expectStatus: 200, expectText: "Deploy ops demo", expectReleases: false };
const expectNew: SmokeExpectations = { releases: { client: "r-new-client", backend: "r-new-backend" }, schemaVersion: 2 };

const body = (client: string, backend: string, over: { status?: string; schemaVersion?: number | null } = {}) =>
  JSON.stringify({
    ok: true,
    client: { release: client },
    backend: {
      status: over.status ?? "SERVING",
      release: backend,
      schemaVersion: over.schemaVersion === undefined ? 2 : over.schemaVersion,
      databaseReachable: true,
    },
    checkedAt: "2026-11-29T12:00:00.000Z",
  });
const NEW = body("r-new-client", "r-new-backend");
const OLD = body("r-old-client", "r-old-backend");

describe("judge", () => {
  it.each([
    ["connection error", healthz, { status: 0, body: "", error: "ECONNRESET" }, "retry", "no response (ECONNRESET)"],
    ["connection error without a reason", healthz, { status: 0, body: "" }, "retry", "no response (connection failed)"],
    ["503", healthz, { status: 503, body: "Service Unavailable" }, "retry", "HTTP 503"],
    ["502 on a text check", home, { status: 502, body: "" }, "retry", "HTTP 502"],
    ["404", healthz, { status: 404, body: "not found" }, "fail", "HTTP 404, expected 200"],
    ["301 where 200 is expected", home, { status: 301, body: "" }, "fail", "HTTP 301, expected 200"],
    [
      "200 from the old release",
      healthz,
      { status: 200, body: OLD },
      "retry",
      "client reports release r-old-client, expected r-new-client",
    ],
    [
      "200, new client, old backend",
      healthz,
      { status: 200, body: body("r-new-client", "r-old-backend") },
      "retry",
      "backend reports release r-old-backend, expected r-new-backend",
    ],
    [
      "200 with no backend release",
      healthz,
      { status: 200, body: JSON.stringify({ client: { release: "r-new-client" } }) },
      "retry",
      "backend reports release (none), expected r-new-backend",
    ],
    [
      "200, right releases, backend NOT_SERVING",
      healthz,
      { status: 200, body: body("r-new-client", "r-new-backend", { status: "NOT_SERVING" }) },
      "retry",
      "backend NOT_SERVING",
    ],
    [
      "200, right releases, SERVING, right schema",
      healthz,
      { status: 200, body: NEW },
      "pass",
      "HTTP 200, releases r-new-client, r-new-backend",
    ],
    [
      "200, right releases, wrong schema",
      healthz,
      { status: 200, body: body("r-new-client", "r-new-backend", { schemaVersion: 1 }) },
      "fail",
      "schema version 1, expected 2",
    ],
    [
      "200, right releases, no schema",
      healthz,
      { status: 200, body: body("r-new-client", "r-new-backend", { schemaVersion: null }) },
      "fail",
      "schema version (none), expected 2",
    ],
    [
      "200, body not JSON",
      healthz,
      { status: 200, body: "<html>ok</html>" },
      "fail",
      "body is not JSON; cannot prove which release answered",
    ],
    ["200 with the text", home, { status: 200, body: "<h1>Deploy ops demo</h1>" }, "pass", "HTTP 200"],
    ["200 without the text", home, { status: 200, body: "<h1>Welcome to nginx!</h1>" }, "fail", 'body does not contain "Deploy ops demo"'],
  ] as const)("%s → %s", (_name, check, res, outcome, detail) => {
    expect(judge(check, res, expectNew)).toEqual({ outcome, detail });
  });

  it("without a schema version to prove, right releases pass", () => {
    expect(
      judge(healthz, { status: 200, body: body("a", "b", { schemaVersion: 9 }) }, { releases: { client: "a", backend: "b" } }).outcome,
    ).toBe("pass");
  });
});

type Res = { status: number; body: string; error?: string };

/** A fake clock: `sleep` advances it; every GET takes `getMs`. */
function harness(responses: (attempt: number) => Res, getMs = 0) {
  let t = 1_000_000;
  const sleeps: number[] = [];
  const timeouts: number[] = [];
  const urls: string[] = [];
  const opts: Pick<SmokeOptions, "get" | "sleep" | "now"> = {
    now: () => t,
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    get: async (url, timeoutMs) => {
      urls.push(url);
      timeouts.push(timeoutMs);
      t += getMs;
      return responses(urls.length);
    },
  };
  return { opts, sleeps, timeouts, urls, elapsed: () => t - 1_000_000 };
}

const base = {
  baseUrl: "https://demo.example.com",
  expect: { releases: { client: "r-new-client", backend: "r-new-backend" } },
  deadlineMs: 90_000,
  attemptTimeoutMs: 5_000,
  retryDelayMs: 500,
  maxRetryDelayMs: 5_000,
};

describe("judge: a check that accepts several statuses", () => {
  const ready: SmokeCheckConfig = { name: "idp ready", path: "/-/health/ready/", expectStatus: [200, 204], expectReleases: false };
  it.each([
    [204, "pass", "HTTP 204"],
    [200, "pass", "HTTP 200"],
    [404, "fail", "HTTP 404, expected 200 or 204"],
    [503, "retry", "HTTP 503"],
  ])("%s → %s", (status, outcome, detail) => {
    expect(judge(ready, { status, body: "" }, { releases: {} })).toEqual({ outcome, detail });
  });
});

describe("runSmokeChecks: C-23", () => {
  it("retries reset, 503 and the old release with backoff, and passes on proof of the new release", async () => {
    const sequence: Res[] = [
      { status: 0, body: "", error: "ECONNRESET" },
      { status: 503, body: "" },
      { status: 200, body: OLD },
      { status: 200, body: NEW },
    ];
    const h = harness((n) => sequence[n - 1]!);
    const retries: Array<[string, number, number, string]> = [];
    const [result, ...rest] = await runSmokeChecks({ ...base, checks: [healthz], ...h.opts, onRetry: (...a) => retries.push(a) });
    expect(rest).toEqual([]);
    expect(h.sleeps).toEqual([500, 1000, 2000]);
    expect(h.urls).toEqual(Array(4).fill("https://demo.example.com/healthz"));
    // The fake clock starts at 1 000 000 ms after the epoch: 1970-01-01T00:16:40Z.
    expect(result).toEqual({
      name: "healthz proves the release",
      method: "GET",
      path: "/healthz",
      url: "https://demo.example.com/healthz",
      ok: true,
      durationMs: 3500,
      attempts: [
        { atMs: 0, at: "1970-01-01T00:16:40.000Z", status: 0, error: "ECONNRESET", outcome: "retry", detail: "no response (ECONNRESET)" },
        { atMs: 500, at: "1970-01-01T00:16:40.500Z", status: 503, outcome: "retry", detail: "HTTP 503" },
        {
          atMs: 1500,
          at: "1970-01-01T00:16:41.500Z",
          status: 200,
          outcome: "retry",
          detail: "client reports release r-old-client, expected r-new-client",
        },
        {
          atMs: 3500,
          at: "1970-01-01T00:16:43.500Z",
          status: 200,
          outcome: "pass",
          detail: "HTTP 200, releases r-new-client, r-new-backend",
        },
      ],
    });
    expect(retries).toEqual([
      ["healthz proves the release", 1, 500, "no response (ECONNRESET)"],
      ["healthz proves the release", 2, 1000, "HTTP 503"],
      ["healthz proves the release", 3, 2000, "client reports release r-old-client, expected r-new-client"],
    ]);
  });

  it("fails at the deadline when only the old release answers, keeping every attempt", async () => {
    const h = harness(() => ({ status: 200, body: OLD }));
    const [result] = await runSmokeChecks({ ...base, checks: [healthz], ...h.opts });
    // 500, 1000, 2000, 4000, then capped at 5000 ms; it stops when the next sleep would pass 90 s
    const expectedSleeps = [500, 1000, 2000, 4000, ...Array<number>(16).fill(5000)];
    expect(h.sleeps).toEqual(expectedSleeps);
    const expectedTimes = [0, 500, 1500, 3500, ...Array.from({ length: 17 }, (_, i) => 7500 + 5000 * i)];
    expect(result!.ok).toBe(false);
    expect(result!.attempts.map((a) => a.atMs)).toEqual(expectedTimes);
    expect(result!.attempts).toHaveLength(21);
    expect(result!.attempts.every((a) => a.outcome === "retry" && a.status === 200)).toBe(true);
    expect(result!.durationMs).toBe(87_500);
    expect(result!.reason).toBe("deadline of 90000 ms reached; last: client reports release r-old-client, expected r-new-client");
    expect(result!.reason!.startsWith("deadline of 90000 ms reached; last:")).toBe(true);
    // no attempt's timeout reaches past the deadline
    expect(h.timeouts.at(-1)).toBe(2_500);
    expect(h.timeouts.slice(0, -1).every((t) => t === 5_000)).toBe(true);
  });

  it("counts the time the GETs take against the deadline", async () => {
    const h = harness(() => ({ status: 503, body: "" }), 4_000);
    const [result] = await runSmokeChecks({ ...base, deadlineMs: 20_000, checks: [healthz], ...h.opts });
    // attempts end at 4000, 8500, 13500, 19500; the next 4000 ms sleep would pass 20000
    expect(h.sleeps).toEqual([500, 1000, 2000]);
    expect(result!.attempts.map((a) => a.atMs)).toEqual([4000, 8500, 13500, 19500]);
    // the last attempt starts at 15500: its timeout is cut to what is left of the deadline
    expect(h.timeouts).toEqual([5000, 5000, 5000, 4500]);
    expect(result!.reason).toBe("deadline of 20000 ms reached; last: HTTP 503");
  });

  it("a permanent failure ends the check at once, without retries", async () => {
    const h = harness(() => ({ status: 404, body: "" }));
    const [result] = await runSmokeChecks({ ...base, checks: [healthz], ...h.opts });
    expect(h.sleeps).toEqual([]);
    expect(result).toMatchObject({
      ok: false,
      reason: "HTTP 404, expected 200",
      attempts: [{ atMs: 0, status: 404, outcome: "fail", detail: "HTTP 404, expected 200" }],
    });
  });

  it("runs the checks concurrently and returns both results in order", async () => {
    let homeRequested!: () => void;
    const homeSeen = new Promise<void>((r) => (homeRequested = r));
    const urls: string[] = [];
    const results = await runSmokeChecks({
      ...base,
      checks: [healthz, home],
      sleep: async () => undefined,
      get: async (url) => {
        urls.push(url);
        if (url.endsWith("/healthz")) {
          // answers only once the other check has asked: impossible if checks ran one after the other
          await homeSeen;
          return { status: 200, body: NEW };
        }
        homeRequested();
        return { status: 200, body: "<title>Deploy ops demo</title>" };
      },
    });
    expect(urls).toEqual(["https://demo.example.com/healthz", "https://demo.example.com/"]);
    expect(results.map((r) => [r.name, r.url, r.ok])).toEqual([
      ["healthz proves the release", "https://demo.example.com/healthz", true],
      ["home page", "https://demo.example.com/", true],
    ]);
  });

  it("one failing check does not hide the other", async () => {
    const results = await runSmokeChecks({
      ...base,
      checks: [healthz, home],
      sleep: async () => undefined,
      get: async (url) => (url.endsWith("/healthz") ? { status: 200, body: NEW } : { status: 200, body: "It works!" }),
    });
    expect(results.map((r) => [r.name, r.ok, r.reason])).toEqual([
      ["healthz proves the release", true, undefined],
      ["home page", false, 'body does not contain "Deploy ops demo"'],
    ]);
  });
});

describe("smokeFailure: what an on-call engineer reads", () => {
  it("names each failed check, its method and URL path, and its last 3 attempts with time and status or error", async () => {
    // healthz: reset, 503, old release, 503, reset ... until the deadline; home passes.
    const answers: Res[] = [
      { status: 0, body: "", error: "ECONNRESET" },
      { status: 503, body: "" },
      { status: 200, body: OLD },
      { status: 503, body: "" },
      { status: 0, body: "", error: "ECONNREFUSED" },
    ];
    const h = harness((n) => answers[(n - 1) % answers.length]!);
    const [result] = await runSmokeChecks({ ...base, deadlineMs: 10_000, checks: [healthz], ...h.opts });
    const passed = {
      name: "home page",
      method: "GET" as const,
      path: "/",
      url: "https://demo.example.com/",
      ok: true,
      attempts: [],
      durationMs: 1,
    };
    const err = smokeFailure([result!, passed], "/tmp/run/smoke-report.json");
    expect(err).toBeInstanceOf(SmokeCheckError);
    // Attempts at 0, 500, 1500, 3500, 7500 ms (backoff 500, 1000, 2000, 4000); the next sleep would pass 10 s.
    expect(err.message).toBe(
      [
        "1 smoke check failed:",
        "  healthz proves the release: GET /healthz on demo.example.com failed after 5 attempts: deadline of 10000 ms reached; last: no response (ECONNREFUSED)",
        "    last 3 attempts:",
        "      1970-01-01T00:16:41.500Z (+1.5s): HTTP 200: client reports release r-old-client, expected r-new-client",
        "      1970-01-01T00:16:43.500Z (+3.5s): HTTP 503",
        "      1970-01-01T00:16:47.500Z (+7.5s): no response (ECONNREFUSED)",
      ].join("\n"),
    );
    expect(err.where).toBe("/tmp/run/smoke-report.json");
    expect(err.fix).toBe("Every attempt is in /tmp/run/smoke-report.json. Roll back with `pnpm ops:rollback` if the release is bad.");
  });

  it("a check that failed at its first attempt shows that one attempt", async () => {
    const h = harness(() => ({ status: 404, body: "" }));
    const [result] = await runSmokeChecks({ ...base, checks: [home], ...h.opts });
    expect(smokeFailure([result!], "r.json").message).toBe(
      [
        "1 smoke check failed:",
        "  home page: GET / on demo.example.com failed after 1 attempt: HTTP 404, expected 200",
        "    last 1 attempt:",
        "      1970-01-01T00:16:40.000Z (+0.0s): HTTP 404, expected 200",
      ].join("\n"),
    );
  });
});
