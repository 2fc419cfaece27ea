import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, type OpsError } from "../../src/errors.ts";
import { createNeonClient, DEFAULT_NEON_API_HOST, NeonApiError, neonApiHostFrom, type NeonRetryInfo } from "../../src/neon/client.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";

const PLANTED_KEY = "neon_api_PLACEHOLDER_KEY_123";

let neon: FakeNeon;
beforeEach(async () => {
  neon = await startFakeNeon({ apiKey: PLANTED_KEY });
});
afterEach(async () => {
  await neon.close();
});

const fastClient = (key = PLANTED_KEY, retries: NeonRetryInfo[] = []) =>
  createNeonClient({ apiKey: new Secret(key), baseUrl: neon.url, minRetryDelayMs: 1, maxRetryDelayMs: 4, onRetry: (r) => retries.push(r) });

/** Everything an error can show: message, fix, where, util.inspect (with cause), JSON. */
const everything = (err: unknown) => {
  const e = err as OpsError;
  return [e.message, e.fix ?? "", e.where ?? "", inspect(err, { depth: 10 }), JSON.stringify(err), String(err)].join("\n");
};

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("createNeonClient", () => {
  it("sends Authorization: Bearer <key> and returns the response body", async () => {
    const client = fastClient();
    const { branch } = await client.call((api) => api.getProjectBranch(neon.projectId, neon.defaultBranchId));
    expect(branch).toMatchObject({ id: neon.defaultBranchId, name: "main" });
    expect(neon.state.requests).toEqual([
      {
        method: "GET",
        path: `/projects/${neon.projectId}/branches/${neon.defaultBranchId}`,
        query: {},
        body: undefined,
        status: 200,
        authorized: true,
      },
    ]);
  });

  it("401: says which call failed, Neon's code and message, and the fix; our (planted) key appears nowhere", async () => {
    const other = await startFakeNeon({ apiKey: "neon_api_SERVER_SIDE_KEY" });
    try {
      const retries: NeonRetryInfo[] = [];
      const client = createNeonClient({
        apiKey: new Secret(PLANTED_KEY),
        baseUrl: other.url,
        minRetryDelayMs: 1,
        onRetry: (r) => retries.push(r),
      });
      const err = await caught(client.call((api) => api.getProjectBranch(other.projectId, other.defaultBranchId)));
      expect(err).toBeInstanceOf(NeonApiError);
      const e = err as NeonApiError;
      expect(e.message).toBe(
        `Neon API GET /projects/${other.projectId}/branches/${other.defaultBranchId} failed: HTTP 401 Unauthorized (UNAUTHORIZED: authorization failed: missing or invalid API key); request_id ${e.requestId}`,
      );
      expect(e.status).toBe(401);
      expect(e.neonCode).toBe("UNAUTHORIZED");
      expect(e.code).toBe("E_COMMAND");
      expect(e.where).toBe(`Neon API GET /projects/${other.projectId}/branches/${other.defaultBranchId}`);
      expect(e.fix).toMatch(/^NEON_API_KEY is missing, wrong or revoked/);
      expect(e.cause).toBeUndefined(); // the axios error (whose config holds the header) is not kept
      expect(retries).toEqual([]); // 401 is never retried
      expect(other.state.requests).toEqual([
        {
          method: "GET",
          path: `/projects/${other.projectId}/branches/${other.defaultBranchId}`,
          query: {},
          body: undefined,
          status: 401,
          authorized: false,
        },
      ]);
      const seen = [everything(err), JSON.stringify(other.state.requests), inspect(client, { depth: 10 })].join("\n");
      expect(seen).not.toContain(PLANTED_KEY);
      expect(seen).not.toContain("Bearer");
    } finally {
      await other.close();
    }
  });

  it("the planted key never appears in errors, retry reasons or the stand-in's request log", async () => {
    const retries: NeonRetryInfo[] = [];
    const client = fastClient(PLANTED_KEY, retries);
    neon.knobs.force429 = 2;
    await client.call((api) => api.listProjectBranches({ projectId: neon.projectId }));
    const errs = [
      await caught(client.call((api) => api.getProjectBranch(neon.projectId, "br-missing-1"))),
      await caught(client.call((api) => api.restoreProjectBranch(neon.projectId, neon.defaultBranchId, { source_branch_id: "" }))),
    ];
    const seen = [
      ...errs.map(everything),
      JSON.stringify(retries),
      JSON.stringify(neon.state.requests),
      inspect(client, { depth: 10 }),
    ].join("\n");
    expect(seen).not.toContain(PLANTED_KEY);
    expect(seen).not.toContain("Bearer");
  });

  it("423 Locked is retried with exponential backoff, then succeeds", async () => {
    const retries: NeonRetryInfo[] = [];
    neon.knobs.force423 = 3;
    const client = createNeonClient({
      apiKey: new Secret(PLANTED_KEY),
      baseUrl: neon.url,
      minRetryDelayMs: 2,
      maxRetryDelayMs: 1000,
      onRetry: (r) => retries.push(r),
    });
    const res = await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "x" } }));
    expect(res.branch.name).toBe("x");
    expect(neon.state.requests.map((r) => r.status)).toEqual([423, 423, 423, 201]);
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 2],
      [2, 4],
      [3, 8],
    ]);
    expect(retries[0]).toMatchObject({
      what: `POST /projects/${neon.projectId}/branches`,
      reason:
        "423 Locked: operations still running on the project (project already has running conflicting operations, scheduling of new ones is prohibited)",
    });
  });

  it("429 is retried, for GET and POST alike", async () => {
    const retries: NeonRetryInfo[] = [];
    const client = fastClient(PLANTED_KEY, retries);
    neon.knobs.force429 = 2;
    await client.call((api) => api.listProjectBranches({ projectId: neon.projectId }));
    neon.knobs.force429 = 1;
    await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "y" } }));
    expect(neon.state.requests.map((r) => `${r.method} ${r.status}`)).toEqual(["GET 429", "GET 429", "GET 200", "POST 429", "POST 201"]);
    expect(retries.map((r) => r.reason)).toEqual([
      "429 Too Many Requests (rate limit exceeded)",
      "429 Too Many Requests (rate limit exceeded)",
      "429 Too Many Requests (rate limit exceeded)",
    ]);
  });

  it("423 that never clears ends in a clear error after the configured retries", async () => {
    neon.knobs.force423 = 100;
    const client = createNeonClient({
      apiKey: new Secret(PLANTED_KEY),
      baseUrl: neon.url,
      retries: 2,
      minRetryDelayMs: 1,
      maxRetryDelayMs: 2,
    });
    const err = (await caught(client.call((api) => api.createProjectBranch(neon.projectId, {})))) as NeonApiError;
    expect(err).toBeInstanceOf(NeonApiError);
    expect(err.message).toMatch(
      new RegExp(
        `^Neon API POST /projects/${neon.projectId}/branches failed: HTTP 423 Locked \\(LOCKED: project already has running conflicting operations, scheduling of new ones is prohibited\\); after 3 attempts; request_id `,
      ),
    );
    expect(err.fix).toMatch(/Operations are still running on the project/);
    expect(neon.state.requests).toHaveLength(3);
  });

  it("other 4xx are never retried", async () => {
    const retries: NeonRetryInfo[] = [];
    const client = fastClient(PLANTED_KEY, retries);
    const err = (await caught(client.call((api) => api.getProjectBranch(neon.projectId, "br-missing-1")))) as NeonApiError;
    expect(err.status).toBe(404);
    expect(err.message).toContain(
      `GET /projects/${neon.projectId}/branches/br-missing-1 failed: HTTP 404 Not Found (NOT_FOUND: branch br-missing-1 not found)`,
    );
    const bad = (await caught(
      client.call((api) => api.restoreProjectBranch(neon.projectId, neon.defaultBranchId, { source_branch_id: "" })),
    )) as NeonApiError;
    expect(bad.status).toBe(400);
    expect(retries).toEqual([]);
    expect(neon.state.requests.map((r) => r.status)).toEqual([404, 400]);
  });

  it("a Neon that cannot be reached: names the base URL, retries GET only", async () => {
    const url = neon.url;
    await neon.close();
    const retries: NeonRetryInfo[] = [];
    const client = createNeonClient({
      apiKey: new Secret(PLANTED_KEY),
      baseUrl: url,
      retries: 2,
      minRetryDelayMs: 1,
      maxRetryDelayMs: 2,
      onRetry: (r) => retries.push(r),
    });
    const get = (await caught(client.call((api) => api.getProjectBranch("p-1", "br-1")))) as NeonApiError;
    expect(get.message).toBe(`Neon API GET /projects/p-1/branches/br-1 failed: no response from ${url} (ECONNREFUSED); after 3 attempts`);
    expect(get.status).toBeUndefined();
    expect(get.fix).toContain("NEON_API_HOST");
    expect(retries).toHaveLength(2);
    const post = (await caught(client.call((api) => api.createProjectBranch("p-1", {})))) as NeonApiError;
    expect(post.message).toBe(`Neon API POST /projects/p-1/branches failed: no response from ${url} (ECONNREFUSED)`);
    expect(retries).toHaveLength(2);
    neon = await startFakeNeon(); // for afterEach
  });

  it("errors that are not HTTP errors pass through unchanged (bugs keep their stack)", async () => {
    const client = fastClient();
    const bug = new TypeError("boom");
    await expect(client.call(() => Promise.reject(bug))).rejects.toBe(bug);
  });
});

describe("neonApiHostFrom", () => {
  it("defaults to the Neon API v2 URL and trims a trailing slash", () => {
    expect(neonApiHostFrom({})).toBe(DEFAULT_NEON_API_HOST);
    expect(neonApiHostFrom({ NEON_API_HOST: " " })).toBe(DEFAULT_NEON_API_HOST);
    expect(neonApiHostFrom({ NEON_API_HOST: "https://neon.example.test/api/v2/" })).toBe("https://neon.example.test/api/v2");
    expect(neonApiHostFrom({ NEON_API_HOST: "http://127.0.0.1:4010/api/v2" })).toBe("http://127.0.0.1:4010/api/v2");
  });

  it.each([
    ["not a url", /is not a URL/],
    ["http://neon.example.test/api/v2", /not an https:\/\/ URL; the Neon API key would be sent unencrypted/],
    ["https://user:pw@neon.example.test/api/v2", /without credentials, query or fragment/],
  ])("refuses %s", (value, message) => {
    expect(() => neonApiHostFrom({ NEON_API_HOST: value })).toThrow(ConfigError);
    expect(() => neonApiHostFrom({ NEON_API_HOST: value })).toThrow(message);
  });
});
