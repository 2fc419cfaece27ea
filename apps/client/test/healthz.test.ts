import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { resetEnvCache } from "../app/env.server";
import { checkBackend, closeBackend } from "../app/lib/backend.server";
import { loader as healthzLoader } from "../app/routes/healthz";
import { loader as indexLoader } from "../app/routes/_index";
import { PROTO_ROOT, startFakeBackend, unusedPort, type FakeBackend } from "./helpers/fake-backend";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let backend: FakeBackend | undefined;

/** Point the client at `address` with a fresh environment and a fresh channel. */
function useEnv(vars: Record<string, string | undefined>) {
  vi.stubEnv("GRPC_PROTO_ROOT", PROTO_ROOT);
  vi.stubEnv("RELEASE_ID", "client-rel-7");
  vi.stubEnv("BACKEND_AUTH_TOKEN", undefined);
  vi.stubEnv("BACKEND_TIMEOUT_MS", "2000");
  for (const [k, v] of Object.entries(vars)) vi.stubEnv(k, v);
  resetEnvCache();
  closeBackend();
}

async function getHealthz() {
  const started = Date.now();
  const res = await healthzLoader();
  const body = (await res.json()) as Record<string, unknown> & { checkedAt: string };
  expect(body.checkedAt).toMatch(ISO);
  const checkedAt = Date.parse(body.checkedAt);
  expect(checkedAt).toBeGreaterThanOrEqual(started - 1);
  expect(checkedAt).toBeLessThanOrEqual(Date.now());
  return { res, body };
}

beforeEach(() => {
  vi.unstubAllEnvs();
});

afterEach(async () => {
  closeBackend();
  resetEnvCache();
  vi.unstubAllEnvs();
  await backend?.close();
  backend = undefined;
});

describe("/healthz", () => {
  it("answers 200 with the exact JSON when the backend is SERVING", async () => {
    backend = await startFakeBackend();
    useEnv({ BACKEND_GRPC_ADDR: backend.address });

    const { res, body } = await getHealthz();

    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    expect(body).toStrictEqual({
      ok: true,
      client: { release: "client-rel-7" },
      backend: {
        status: "SERVING",
        release: "backend-rel-42",
        schemaVersion: 7,
        databaseReachable: true,
      },
      checkedAt: body.checkedAt,
    });
    // key order is part of what people read in logs and curl output
    expect(Object.keys(body)).toEqual(["ok", "client", "backend", "checkedAt"]);
    // the health check asked about the whole server
    expect(backend.calls.find((c) => c.method === "Check")?.request).toEqual({ service: "" });
  });

  it("passes int64 and false values through as JSON numbers and booleans", async () => {
    backend = await startFakeBackend({
      status: { schemaVersion: 2_147_483_653, databaseReachable: false, databaseError: "connection refused" },
    });
    useEnv({ BACKEND_GRPC_ADDR: backend.address });

    const { res, body } = await getHealthz();

    expect(res.status).toBe(200);
    expect(body.backend).toStrictEqual({
      status: "SERVING",
      release: "backend-rel-42",
      schemaVersion: 2_147_483_653,
      databaseReachable: false,
    });
  });

  it("answers 503 when the backend reports NOT_SERVING, then 200 once it serves again", async () => {
    backend = await startFakeBackend({ health: "NOT_SERVING" });
    useEnv({ BACKEND_GRPC_ADDR: backend.address });

    const first = await getHealthz();
    expect(first.res.status).toBe(503);
    expect(first.res.headers.get("Cache-Control")).toBe("no-store");
    expect(first.body).toStrictEqual({
      ok: false,
      client: { release: "client-rel-7" },
      backend: { status: "NOT_SERVING", release: "backend-rel-42", schemaVersion: 7, databaseReachable: true },
      checkedAt: first.body.checkedAt,
    });

    backend.setHealth("SERVING");
    const second = await getHealthz();
    expect(second.res.status).toBe(200);
    expect(second.body.ok).toBe(true);
  });

  it("asks once more after NOT_SERVING (a backend being replaced), and answers with what the second ask sees", async () => {
    backend = await startFakeBackend({ health: "NOT_SERVING" });
    useEnv({ BACKEND_GRPC_ADDR: backend.address });
    const pending = getHealthz();
    while (!backend.calls.some((c) => c.method === "Check")) await new Promise((r) => setTimeout(r, 5));
    backend.setHealth("SERVING");
    const { res, body } = await pending;
    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    expect(backend.calls.filter((c) => c.method === "Check")).toHaveLength(2);
  });

  it("answers 503 UNREACHABLE with an error when nothing listens", async () => {
    const port = await unusedPort();
    useEnv({ BACKEND_GRPC_ADDR: `127.0.0.1:${port}` });

    const { res, body } = await getHealthz();

    expect(res.status).toBe(503);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(body).toStrictEqual({
      ok: false,
      client: { release: "client-rel-7" },
      backend: {
        status: "UNREACHABLE",
        release: null,
        schemaVersion: null,
        databaseReachable: null,
        error: expect.stringMatching(/^UNAVAILABLE: .*ECONNREFUSED 127\.0\.0\.1:\d+\.?$/),
      },
      checkedAt: body.checkedAt,
    });
    expect((body.backend as { error: string }).error.length).toBeLessThanOrEqual(200);
  });

  it("answers 503 UNREACHABLE with DEADLINE_EXCEEDED when the backend is slower than BACKEND_TIMEOUT_MS", async () => {
    backend = await startFakeBackend({ delayMs: 1_000 });
    useEnv({ BACKEND_GRPC_ADDR: backend.address, BACKEND_TIMEOUT_MS: "150" });

    const started = Date.now();
    const { res, body } = await getHealthz();

    expect(Date.now() - started).toBeLessThan(900);
    expect(res.status).toBe(503);
    expect(body.backend).toMatchObject({ status: "UNREACHABLE", release: null });
    expect((body.backend as { error: string }).error).toMatch(/^DEADLINE_EXCEEDED/);
  });

  it("sends authorization: Bearer <BACKEND_AUTH_TOKEN> on GetStatus", async () => {
    backend = await startFakeBackend({ requireToken: "tok-0123456789abcdef" });
    useEnv({ BACKEND_GRPC_ADDR: backend.address, BACKEND_AUTH_TOKEN: "tok-0123456789abcdef" });

    const { res, body } = await getHealthz();

    expect(res.status).toBe(200);
    expect(body.ok).toBe(true);
    const getStatus = backend.calls.filter((c) => c.method === "GetStatus");
    expect(getStatus).toHaveLength(1);
    expect(getStatus[0]!.metadata.authorization).toBe("Bearer tok-0123456789abcdef");
    // the health check needs no credentials and gets none
    expect(backend.calls.find((c) => c.method === "Check")!.metadata.authorization).toBeUndefined();
  });

  it("sends no authorization without a token, and reports the refusal without leaking anything", async () => {
    backend = await startFakeBackend({ requireToken: "tok-0123456789abcdef" });
    useEnv({ BACKEND_GRPC_ADDR: backend.address });

    const { res, body } = await getHealthz();

    expect(backend.calls.find((c) => c.method === "GetStatus")!.metadata.authorization).toBeUndefined();
    expect(res.status).toBe(503);
    expect(body.backend).toStrictEqual({
      status: "UNREACHABLE",
      release: null,
      schemaVersion: null,
      databaseReachable: null,
      error: "GetStatus: UNAUTHENTICATED: missing or wrong bearer token",
    });
  });

  it("never puts the token in the body when the backend refuses a wrong one", async () => {
    backend = await startFakeBackend({ requireToken: "the-right-token" });
    useEnv({ BACKEND_GRPC_ADDR: backend.address, BACKEND_AUTH_TOKEN: "a-wrong-token-value" });

    const res = await healthzLoader();
    const text = await res.text();

    expect(res.status).toBe(503);
    expect(text).toContain("UNAUTHENTICATED");
    expect(text).not.toContain("a-wrong-token-value");
  });
});

describe("checkBackend", () => {
  it("reuses one channel across calls and reports everything GetStatus returns", async () => {
    backend = await startFakeBackend({ status: { databaseReachable: false, databaseError: "timeout" } });
    useEnv({ BACKEND_GRPC_ADDR: backend.address });

    const a = await checkBackend();
    const b = await checkBackend();

    expect(a).toMatchObject({
      status: "SERVING",
      release: "backend-rel-42",
      schemaVersion: 7,
      databaseReachable: false,
      databaseError: "timeout",
      startedAt: "2026-01-02T03:04:05Z",
      releasesSeen: 3,
      address: backend.address,
    });
    expect(a.error).toBeUndefined();
    expect(b.status).toBe("SERVING");
    expect(backend.calls.map((c) => c.method).sort()).toEqual(["Check", "Check", "GetStatus", "GetStatus"]);
  });

  it("does not throw when the environment is invalid", async () => {
    useEnv({ BACKEND_GRPC_ADDR: "127.0.0.1:1", GRPC_PROTO_ROOT: "/nonexistent/protos" });

    const report = await checkBackend();

    expect(report.status).toBe("UNREACHABLE");
    expect(report.error).toMatch(/GRPC_PROTO_ROOT/);
  });
});

describe("home page loader", () => {
  it("returns what the backend reports", async () => {
    backend = await startFakeBackend();
    useEnv({ BACKEND_GRPC_ADDR: backend.address });

    const data = await indexLoader();

    expect(data.clientRelease).toBe("client-rel-7");
    expect(data.backend).toMatchObject({
      status: "SERVING",
      release: "backend-rel-42",
      schemaVersion: 7,
      databaseReachable: true,
      releasesSeen: 3,
    });
  });

  it("degrades to the error when the backend is down", async () => {
    useEnv({ BACKEND_GRPC_ADDR: `127.0.0.1:${await unusedPort()}` });

    const data = await indexLoader();

    expect(data.clientRelease).toBe("client-rel-7");
    expect(data.backend.status).toBe("UNREACHABLE");
    expect(data.backend.release).toBeNull();
    expect(data.backend.error).toMatch(/UNAVAILABLE/);
  });
});
