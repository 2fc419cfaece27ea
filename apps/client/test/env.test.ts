import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { EnvError, defaultProtoRoot, loadEnv } from "../app/env.server";
import { PROTO_ROOT } from "./helpers/fake-backend";

function problems(source: Record<string, string | undefined>): string {
  try {
    loadEnv(source);
  } catch (err) {
    expect(err).toBeInstanceOf(EnvError);
    return (err as EnvError).message;
  }
  throw new Error("expected loadEnv to refuse");
}

describe("loadEnv", () => {
  it("uses the documented defaults", () => {
    const env = loadEnv({});
    expect(env).toStrictEqual({
      nodeEnv: "production",
      port: 3000,
      host: "0.0.0.0",
      backendGrpcAddr: "localhost:50051",
      grpcProtoRoot: PROTO_ROOT,
      releaseId: "dev",
      backendAuthToken: undefined,
      sessionSecret: undefined,
      backendTimeoutMs: 2000,
    });
  });

  it("reads every variable", () => {
    const env = loadEnv({
      NODE_ENV: "development",
      PORT: "8080",
      HOST: "::",
      BACKEND_GRPC_ADDR: "backend.internal:50051",
      GRPC_PROTO_ROOT: PROTO_ROOT,
      RELEASE_ID: "v2026.01.02-abc",
      BACKEND_AUTH_TOKEN: "t0k",
      SESSION_SECRET: "x".repeat(32),
      BACKEND_TIMEOUT_MS: "750",
    });
    expect(env).toStrictEqual({
      nodeEnv: "development",
      port: 8080,
      host: "::",
      backendGrpcAddr: "backend.internal:50051",
      grpcProtoRoot: PROTO_ROOT,
      releaseId: "v2026.01.02-abc",
      backendAuthToken: "t0k",
      sessionSecret: "x".repeat(32),
      backendTimeoutMs: 750,
    });
  });

  it("treats empty values as unset", () => {
    const env = loadEnv({ PORT: "", HOST: " ", BACKEND_AUTH_TOKEN: "", SESSION_SECRET: "" });
    expect(env.port).toBe(3000);
    expect(env.host).toBe("0.0.0.0");
    expect(env.backendAuthToken).toBeUndefined();
    expect(env.sessionSecret).toBeUndefined();
  });

  it("refuses HOST=https://x, naming HOST and the value", () => {
    const message = problems({ HOST: "https://x" });
    expect(message).toContain("HOST");
    expect(message).toContain('"https://x"');
    expect(message).toMatch(/not a URL/);
  });

  it.each(["localhost", "127.0.0.1", "::", "[::]", "fly-local-6pn", "client.internal"])("accepts HOST=%s", (host) => {
    expect(loadEnv({ HOST: host }).host).toBe(host.replace(/^\[(.*)\]$/, "$1"));
  });

  it.each(["0.0.0.0:3000", "exa mple", "/var/run/sock"])("refuses HOST=%s", (host) => {
    expect(problems({ HOST: host })).toContain(`HOST must be a bind address or hostname`);
  });

  it("refuses bad numbers and URLs with the variable's name", () => {
    expect(problems({ PORT: "http" })).toContain("PORT must be a whole number");
    expect(problems({ PORT: "70000" })).toContain("PORT must be between 0 and 65535");
    expect(problems({ BACKEND_TIMEOUT_MS: "0" })).toContain("BACKEND_TIMEOUT_MS must be between 1 and 120000");
    expect(problems({ BACKEND_GRPC_ADDR: "http://backend:50051" })).toContain("BACKEND_GRPC_ADDR must be host:port");
  });

  it("lists every problem at once", () => {
    const message = problems({ HOST: "https://x", PORT: "-1" });
    expect(message).toMatch(/HOST/);
    expect(message).toMatch(/PORT/);
  });

  it("refuses a short SESSION_SECRET without echoing it", () => {
    const message = problems({ SESSION_SECRET: "short-secret-value" });
    expect(message).toContain("SESSION_SECRET must be at least 32 characters");
    expect(message).not.toContain("short-secret-value");
  });

  it("refuses a GRPC_PROTO_ROOT without the protos", () => {
    const message = problems({ GRPC_PROTO_ROOT: "/nonexistent/protos" });
    expect(message).toContain('GRPC_PROTO_ROOT: "/nonexistent/protos" does not contain deployops/status/v1/status.proto');
  });
});

describe("defaultProtoRoot", () => {
  it("is the proto folder next to the bundled server when it exists", () => {
    const dir = mkdtempSync(join(tmpdir(), "client-bundle-"));
    try {
      mkdirSync(join(dir, "proto", "deployops"), { recursive: true });
      writeFileSync(join(dir, "server.mjs"), "");
      expect(defaultProtoRoot(pathToFileURL(join(dir, "server.mjs")).href)).toBe(join(dir, "proto"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("falls back to the repo's proto folder from the source tree", () => {
    expect(defaultProtoRoot()).toBe(PROTO_ROOT);
  });
});
