import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { explicitSslMode } from "../../src/db/connect.ts";
import { loadOpsConfig } from "../../src/config/load.ts";
import { readOpsEnv } from "../../src/env.ts";
import { localAppPort } from "../../src/local/ports.ts";

const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
import { createFlyctl } from "../../src/fly/flyctl.ts";
import type { Runner } from "../../src/runner/types.ts";

const repo = { OPS_REPO_ROOT: "/tmp" };

describe("environment", () => {
  it("refuses a port browsers and fetch() block for an app with an http health check", async () => {
    const config = await loadOpsConfig(REPO_ROOT);
    expect(() => localAppPort(config, readOpsEnv({ ...repo, OPS_LOCAL_CLIENT_PORT: "22" }), "client")).toThrow(
      'OPS_LOCAL_CLIENT_PORT="22" is a port browsers and fetch() refuse to connect to',
    );
    expect(localAppPort(config, readOpsEnv({ ...repo, OPS_LOCAL_CLIENT_PORT: "8080" }), "client")).toEqual({
      port: 8080,
      envVar: "OPS_LOCAL_CLIENT_PORT",
      source: "environment",
    });
    expect(localAppPort(config, readOpsEnv(repo), "client")).toEqual({ port: 3000, envVar: "OPS_LOCAL_CLIENT_PORT", source: "config" });
    // gRPC is not fetched: the backend port may be any port
    expect(localAppPort(config, readOpsEnv({ ...repo, OPS_LOCAL_BACKEND_PORT: "6000" }), "backend").port).toBe(6000);
  });
  it("OPS_DRY_RUN and OPS_LOCK_WAIT reach every task through the environment", () => {
    const env = readOpsEnv({ ...repo, OPS_DRY_RUN: "1", OPS_LOCK_WAIT: "10m" });
    expect([env.dryRun, env.lockWait]).toEqual([true, "10m"]);
    expect(readOpsEnv(repo).dryRun).toBe(false);
  });
  it("does not expose raw variables when an OpsEnv is serialized", () => {
    const env = readOpsEnv({ ...repo, DATABASE_URL: "postgres://u:hunter2hunter2@h/db" });
    expect(JSON.stringify(env)).not.toContain("hunter2");
    expect(env.processEnv.DATABASE_URL).toContain("hunter2");
  });
});

describe("pg connection strings", () => {
  it("says verify-full where node-postgres would treat the mode as verify-full anyway", () => {
    expect(explicitSslMode("postgresql://u:p@h/db?sslmode=require")).toBe("postgresql://u:p@h/db?sslmode=verify-full");
    expect(explicitSslMode("postgresql://u:p@h/db?sslmode=prefer&x=1")).toBe("postgresql://u:p@h/db?sslmode=verify-full&x=1");
    expect(explicitSslMode("postgresql://u:p@h/db?sslmode=verify-full")).toBe("postgresql://u:p@h/db?sslmode=verify-full");
    expect(explicitSslMode("postgresql://u:p@localhost/db")).toBe("postgresql://u:p@localhost/db");
  });
});

describe("flyctl wrapper", () => {
  const env = readOpsEnv({ ...repo, FLY_API_TOKEN: "tok", FLY_ACCESS_TOKEN: "" });
  it("a missing binary is named as such, not as an interrupt", async () => {
    const runner: Runner = async (cmd) => ({
      ok: false,
      exitCode: 127,
      signal: null,
      stdout: "",
      stderr: "bash: line 1: flyctl: command not found\n",
      durationMs: 1,
      command: `${cmd.file} ${cmd.args.join(" ")}`,
    });
    await expect(
      createFlyctl(runner, env, (t) => t).run({ file: "flyctl", args: ["version"] }, "flyctl version", { session: false }),
    ).rejects.toThrow("flyctl is not installed (command not found)");
  });
  it("removes an empty FLY_ACCESS_TOKEN and passes the token only in the environment", async () => {
    let seen: Record<string, unknown> = {};
    const runner: Runner = async (cmd) => {
      seen = { ...cmd.env };
      return { ok: true, exitCode: 0, signal: null, stdout: "[]", stderr: "", durationMs: 1, command: "" };
    };
    await createFlyctl(runner, env, (t) => t).json({ file: "flyctl", args: ["apps", "list", "--json"] }, "apps");
    expect("FLY_ACCESS_TOKEN" in seen && seen.FLY_ACCESS_TOKEN).toBe(undefined);
    expect(String(seen.FLY_API_TOKEN)).toBe("[REDACTED]");
  });
});
