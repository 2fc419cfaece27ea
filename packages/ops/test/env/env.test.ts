import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findRepoRoot, pipelineRunId, readOpsEnv } from "../../src/env.ts";
import { ConfigError, UsageError } from "../../src/errors.ts";
import { Secret } from "../../src/secrets/secret.ts";

let root: string;
let nested: string;
const URL_VALUE = "postgresql://app:pa55-w0rd-value@db.example.com:5432/app";

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ops-env-"));
  writeFileSync(join(root, "pnpm-workspace.yaml"), "packages: []\n");
  nested = join(root, "packages", "ops", "src");
  mkdirSync(nested, { recursive: true });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** readOpsEnv with only the given variables, run from inside the temp repo. */
const read = (env: Record<string, string | undefined> = {}, overrides: { target?: string; environment?: string } = {}) =>
  readOpsEnv(env, { cwd: nested, ...overrides });

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("readOpsEnv", () => {
  it("defaults to the local target", () => {
    const e = read();
    expect(e.target).toBe("local");
    expect(e.environment).toBe("local");
    expect(e.localPorts).toEqual({ postgres: 54329, apps: {} });
    expect(e.repoRoot).toBe(root);
    expect(e.stateDir).toBe(join(root, ".ops"));
    expect(e.databaseUrl).toBeUndefined();
    expect(e.migrationDatabaseUrl).toBeUndefined();
    expect(e.secretsFile).toBeUndefined();
    expect(e.autoRollback).toBe(true);
    expect(e.verbose).toBe(false);
    expect(e.ci).toBe(false);
    expect(e.githubStepSummary).toBeUndefined();
  });

  it("OPS_TARGET=fly defaults the environment to production", () => {
    const e = read({ OPS_TARGET: "fly" });
    expect(e.target).toBe("fly");
    expect(e.environment).toBe("production");
  });

  it("an empty or blank OPS_TARGET means local", () => {
    expect(read({ OPS_TARGET: "" }).target).toBe("local");
    expect(read({ OPS_TARGET: "  " }).target).toBe("local");
  });

  it("OPS_ENV names the environment", () => {
    expect(read({ OPS_TARGET: "fly", OPS_ENV: "staging" }).environment).toBe("staging");
  });

  it("overrides (CLI flags) win over the variables", () => {
    const e = read({ OPS_TARGET: "local", OPS_ENV: "dev" }, { target: "fly", environment: "staging" });
    expect(e.target).toBe("fly");
    expect(e.environment).toBe("staging");
    // the --target override alone also changes the default environment
    expect(read({ OPS_TARGET: "local" }, { target: "fly" }).environment).toBe("production");
  });

  it("reads the local ports", () => {
    expect(read({ OPS_LOCAL_PG_PORT: "15432", OPS_LOCAL_CLIENT_PORT: "8080", OPS_LOCAL_BACKEND_PORT: "1" }).localPorts).toEqual({
      postgres: 15432,
      apps: { OPS_LOCAL_CLIENT_PORT: 8080, OPS_LOCAL_BACKEND_PORT: 1 },
    });
  });

  it.each([
    ["OPS_LOCAL_CLIENT_PORT", "99999"],
    ["OPS_LOCAL_PG_PORT", "0"],
    ["OPS_LOCAL_BACKEND_PORT", "80.5"],
    ["OPS_LOCAL_CLIENT_PORT", "http"],
  ])("refuses %s=%s, naming the variable and the value", (name, value) => {
    const e = configError(() => read({ [name]: value }));
    expect(e.message).toBe(`${name}="${value}" is not a TCP port (1-65535)`);
    expect(e.where).toBe(name);
    expect(e.fix).toBe("Fix or unset the variable, then run again.");
  });

  it("refuses an unknown target", () => {
    const e = configError(() => read({ OPS_TARGET: "heroku" }));
    expect(e.message).toBe('OPS_TARGET="heroku" is not a target; use "local" or "fly"');
    expect(e.where).toBe("OPS_TARGET");
  });

  it("a bad --target or --env flag is a usage error naming the flag and the value, not the variable", () => {
    const target = usageError(() => read({}, { target: "flyy" }));
    expect(target.message).toBe('--target "flyy" is not a target; use "local" or "fly"');
    expect(target.where).toBe("--target");
    expect(target.fix).toBe("Pass --target local or --target fly.");
    expect(target.exitCode).toBe(2);
    const env = usageError(() => read({}, { environment: "Bad/Name" }));
    expect(env.message).toBe('--env "Bad/Name" is not an environment name; use a short lowercase name like "production" or "staging"');
    expect(env.where).toBe("--env");
    // A bad variable next to a good flag is still the variable's fault.
    expect(configError(() => read({ OPS_TARGET: "heroku" }, { environment: "staging" })).where).toBe("OPS_TARGET");
  });

  it("refuses an environment name that is not a short lowercase name", () => {
    const e = configError(() => read({ OPS_ENV: "Prod Env" }));
    expect(e.message).toBe('OPS_ENV="Prod Env" is not an environment name; use a short lowercase name like "production" or "staging"');
    expect(e.where).toBe("OPS_ENV");
  });

  it("DATABASE_URL becomes a Secret that never prints its value", () => {
    const e = read({ DATABASE_URL: URL_VALUE });
    expect(e.databaseUrl).toBeInstanceOf(Secret);
    expect(e.databaseUrl!.reveal()).toBe(URL_VALUE);
    expect(String(e.databaseUrl)).toBe("[REDACTED]");
    expect(`${e.databaseUrl}`).toBe("[REDACTED]");
    expect(JSON.stringify(e.databaseUrl)).toBe('"[REDACTED]"');
    expect(JSON.stringify({ url: e.databaseUrl })).toBe('{"url":"[REDACTED]"}');
    expect(inspect(e.databaseUrl)).toBe("[REDACTED]");
    expect(inspect({ url: e.databaseUrl })).not.toContain("pa55-w0rd-value");
    // MIGRATION_DATABASE_URL falls back to DATABASE_URL
    expect(e.migrationDatabaseUrl!.reveal()).toBe(URL_VALUE);
  });

  it("MIGRATION_DATABASE_URL, FLY_API_TOKEN and NEON_API_KEY are Secrets too; empty means unset", () => {
    const e = read({
      DATABASE_URL: URL_VALUE,
      MIGRATION_DATABASE_URL: "postgresql://direct/app",
      FLY_API_TOKEN: "fo1_token",
      NEON_API_KEY: "",
    });
    expect(e.migrationDatabaseUrl!.reveal()).toBe("postgresql://direct/app");
    expect(e.flyApiToken).toBeInstanceOf(Secret);
    expect(String(e.flyApiToken)).toBe("[REDACTED]");
    expect(e.neonApiKey).toBeUndefined();
    expect(read({ DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });

  it.each([
    ["false", false],
    ["0", false],
    ["no", false],
    ["OFF", false],
    ["true", true],
    ["", true],
    [undefined, true],
  ])("OPS_AUTO_ROLLBACK=%s → autoRollback %s", (value, expected) => {
    expect(read({ OPS_AUTO_ROLLBACK: value }).autoRollback).toBe(expected);
  });

  it.each([
    ["OPS_DRY_RUN", "y"],
    ["OPS_DRY_RUN", "2"],
    ["OPS_VERBOSE", "enabled"],
    ["OPS_AUTO_ROLLBACK", "nope"],
  ])("%s=%s is refused, naming the variable, the value and the allowed words (never read as on or off)", (name, value) => {
    const err = configError(() => read({ [name]: value }));
    expect(err.message).toBe(
      `${name}="${value}" is not a boolean; to turn it on use one of 1, true, yes, on, to turn it off one of 0, false, no, off`,
    );
    expect(err.where).toBe(name);
  });

  it.each([
    ["1", true],
    ["TRUE", true],
    [" on ", true],
    ["0", false],
    ["off", false],
    ["", false],
  ])("OPS_DRY_RUN=%j → dryRun %s", (value, expected) => {
    expect(read({ OPS_DRY_RUN: value }).dryRun).toBe(expected);
  });

  it("reads OPS_VERBOSE, CI, GITHUB_STEP_SUMMARY and OPS_ACTOR", () => {
    const e = read({ OPS_VERBOSE: "1", CI: "true", GITHUB_STEP_SUMMARY: "/tmp/summary.md", OPS_ACTOR: "release-bot" });
    expect(e.verbose).toBe(true);
    expect(e.ci).toBe(true);
    expect(e.githubStepSummary).toBe("/tmp/summary.md");
    expect(e.actor).toBe("release-bot");
    expect(read({ CI: "false" }).ci).toBe(false);
  });

  it("resolves OPS_STATE_DIR and OPS_SECRETS_FILE against the cwd", () => {
    const e = read({ OPS_STATE_DIR: "state", OPS_SECRETS_FILE: "../.env.local" });
    expect(e.stateDir).toBe(join(nested, "state"));
    expect(e.secretsFile).toBe(join(root, "packages", "ops", ".env.local"));
  });

  it("OPS_REPO_ROOT wins over discovery", () => {
    expect(readOpsEnv({ OPS_REPO_ROOT: "/srv/checkout" }, { cwd: "/" }).repoRoot).toBe("/srv/checkout");
  });

  it("fails outside a repository, naming the cwd", () => {
    const outside = mkdtempSync(join(tmpdir(), "ops-env-outside-"));
    try {
      const e = configError(() => readOpsEnv({}, { cwd: outside }));
      expect(e.message).toBe(`no pnpm-workspace.yaml found above ${outside}`);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe("findRepoRoot", () => {
  it("finds the nearest folder holding pnpm-workspace.yaml", () => {
    expect(findRepoRoot(nested)).toBe(root);
    expect(findRepoRoot(root)).toBe(root);
    const inner = join(root, "packages", "ops");
    writeFileSync(join(inner, "pnpm-workspace.yaml"), "packages: []\n");
    try {
      expect(findRepoRoot(nested)).toBe(inner);
    } finally {
      rmSync(join(inner, "pnpm-workspace.yaml"));
    }
  });
});

describe("OPS_PIPELINE_RUN_ID", () => {
  it("is the run id of a run id's form, else ignored", () => {
    expect(pipelineRunId({ OPS_PIPELINE_RUN_ID: "20261207-143553-ec6a" })).toBe("20261207-143553-ec6a");
    expect(pipelineRunId({})).toBeUndefined();
    for (const bad of ["", "20261207-143553", "20261207-143553-EC6A", "../../etc", "20261207-143553-ec6a\n"])
      expect(pipelineRunId({ OPS_PIPELINE_RUN_ID: bad }), bad).toBeUndefined();
  });
});
