// The flyctl probes of preflight (fly.cli, fly.auth, fly.apps) and the local tool probes, run
// through the real zx runner: against the flyctl stand-in for the token cases, and against tiny
// shell scripts this test writes (a flyctl that exists but fails `version`, a tool that fails).
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkFlyApps, checkFlyCli } from "../../src/preflight/fly-checks.ts";
import { checkTools } from "../../src/preflight/tool-checks.ts";
import type { CheckResult } from "../../src/preflight/types.ts";
import { createZxRunner } from "../../src/runner/zx.ts";
import { REDACTED } from "../../src/secrets/redactor.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { runPreflightChecks } from "../../src/steps/preflight.ts";
import { createFakeFlyState, readFakeFlyState } from "../fixtures/flyctl/state.ts";
import { FAKE_FLY_BIN } from "../fixtures/flyctl/run.ts";
import { repoRoot, testContext } from "../setup/context.ts";

const TOKEN = "FlyV1 fm2_unit_token";
const PLANTED = "tok_live_PLACEHOLDER_in_stderr_42";
let root: string;
let statePath: string;
let brokenBin: string;
let emptyBin: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "ops-fly-cli-"));
  // A repo root the fly target can load: the real ops.config.ts and an apps.env.
  symlinkSync(join(repoRoot, "node_modules"), join(root, "node_modules"));
  copyFileSync(join(repoRoot, "ops.config.ts"), join(root, "ops.config.ts"));
  mkdirSync(join(root, "infra", "fly"), { recursive: true });
  writeFileSync(
    join(root, "infra", "fly", "apps.env"),
    ["FLY_REGION=iad", "FLY_APP_CLIENT=unit-client", "FLY_APP_BACKEND=unit-backend", "PUBLIC_URL=https://unit.example.test"].join("\n"),
  );
  statePath = join(root, "fly-state.json");
  createFakeFlyState(statePath, { validTokens: [TOKEN], apps: { "unit-client": {}, "unit-backend": {} } });
  // A flyctl that is installed but cannot run `version`: says why on stderr (with a value that must be redacted) and exits 1.
  brokenBin = join(root, "broken-bin");
  mkdirSync(brokenBin);
  const script = join(brokenBin, "flyctl");
  writeFileSync(script, `#!/bin/sh\necho "starting" >&2\necho "Error: FLY_CONFIG_DIR is not set (token ${PLANTED})" >&2\nexit 1\n`);
  chmodSync(script, 0o755);
  const tool = join(brokenBin, "brokentool");
  writeFileSync(tool, `#!/bin/sh\necho "brokentool: GOROOT is not set; key ${PLANTED}" >&2\nexit 2\n`);
  chmodSync(tool, 0o755);
  emptyBin = join(root, "empty-bin");
  mkdirSync(emptyBin);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The process environment without the caller's FLY_* variables, with `bin` first on PATH (and /usr/bin:/bin for the shell). */
function childEnv(bin: string, extra: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FLY_")) env[k] = v;
  return { ...env, PATH: `${bin}:/usr/bin:/bin`, FAKE_FLY_STATE: statePath, ...extra };
}

async function flyContext(bin: string, token: string | undefined) {
  const env = childEnv(bin, token === undefined ? {} : { FLY_API_TOKEN: token });
  const t = await testContext({
    env: { ...env, OPS_REPO_ROOT: root, OPS_TARGET: "fly", OPS_STATE_DIR: join(root, "state") },
    runner: createZxRunner(env),
  });
  t.ctx.addSecret(new Secret(PLANTED));
  return t;
}

const byId = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r]));
const flyCalls = () => readFakeFlyState(statePath).calls.map((c) => c.argv.join(" "));

describe("fly.cli: a flyctl that exists but fails `version`", () => {
  it("is not reported as 'not installed': the message shows flyctl's own stderr, redacted, and fly.auth/fly.apps are skipped", async () => {
    const { ctx, commands } = await flyContext(brokenBin, TOKEN);
    const results = byId(await runPreflightChecks(ctx, { "fly.cli": checkFlyCli, "fly.apps": checkFlyApps }));
    expect(results["fly.cli"]).toEqual({
      id: "fly.cli",
      status: "fail",
      message: `flyctl is on PATH but \`flyctl version --json\` failed (error, exit 1); flyctl said:\n      Error: FLY_CONFIG_DIR is not set (token ${REDACTED})`,
      fix: expect.stringContaining("run `flyctl version` by hand"),
    });
    expect(results["fly.auth"]).toEqual({ id: "fly.auth", status: "skip", message: "skipped: needs fly.cli, which failed" });
    expect(results["fly.apps"]).toEqual({ id: "fly.apps", status: "skip", message: "skipped: needs fly.cli, which failed" });
    // One probe for both checks: flyctl ran once.
    expect(commands.map((c) => [c.file, ...c.args].join(" "))).toEqual(["flyctl version --json"]);
    expect(JSON.stringify(results)).not.toContain(PLANTED);
  });

  it("a flyctl that is not on PATH at all is 'not installed'", async () => {
    const { ctx } = await flyContext(emptyBin, TOKEN);
    const results = byId(await checkFlyCli(ctx));
    expect(results["fly.cli"]).toMatchObject({
      status: "fail",
      message: "flyctl is not installed: `flyctl version --json` exited 127 (command not found on PATH)",
    });
    expect(results["fly.auth"]?.status).toBe("skip");
  });
});

describe("fly.auth: one root cause gives one failed check", () => {
  it("a token Fly rejects: fly.auth fails with flyctl's message, fly.apps is skipped, apps list is never called", async () => {
    const before = flyCalls().length;
    const { ctx } = await flyContext(FAKE_FLY_BIN, "FlyV1 fm2_revoked");
    const results = await runPreflightChecks(ctx, { "fly.cli": checkFlyCli, "fly.apps": checkFlyApps });
    expect(results.filter((r) => r.status === "fail").map((r) => r.id)).toEqual(["fly.auth"]);
    expect(byId(results)["fly.auth"]?.message).toBe(
      "fly auth whoami failed (`flyctl auth whoami --json`, error): Fly rejected the token in FLY_API_TOKEN; flyctl said:\n      Error: failed retrieving current user: You must be authenticated to view this.",
    );
    expect(byId(results)["fly.auth"]?.fix).toBe(
      "Create a new deploy token and set FLY_API_TOKEN. `fly tokens create deploy` makes one; in CI, update the repository secret.",
    );
    expect(byId(results)["fly.apps"]).toEqual({ id: "fly.apps", status: "skip", message: "skipped: needs fly.auth, which failed" });
    expect(flyCalls().slice(before)).toEqual(["version --json", "auth whoami --json"]);
  });

  it("no token at all: fly.auth fails, fly.apps is skipped", async () => {
    const { ctx } = await flyContext(FAKE_FLY_BIN, undefined);
    const results = byId(await runPreflightChecks(ctx, { "fly.cli": checkFlyCli, "fly.apps": checkFlyApps }));
    expect(results["fly.cli"]?.status).toBe("pass");
    expect(results["fly.auth"]).toMatchObject({ status: "fail", message: "FLY_API_TOKEN is not set" });
    expect(results["fly.apps"]?.status).toBe("skip");
  });

  it("a working token: every check passes and each probe runs once", async () => {
    const before = flyCalls().length;
    const { ctx } = await flyContext(FAKE_FLY_BIN, TOKEN);
    const results = await runPreflightChecks(ctx, { "fly.cli": checkFlyCli, "fly.apps": checkFlyApps });
    expect(results.map((r) => `${r.id} ${r.status}`).sort()).toEqual([
      "fly.app.backend pass",
      "fly.app.client pass",
      "fly.auth pass",
      "fly.cli pass",
    ]);
    expect(flyCalls().slice(before)).toEqual(["version --json", "auth whoami --json", "apps list --json"]);
  });
});

describe("checkTools: a tool that runs but fails", () => {
  const tool = {
    id: "tools.broken",
    file: "brokentool",
    args: ["--version"],
    versionPattern: /(\d+\.\d+)/,
    minVersion: "1.0",
    fix: "Install brokentool 1.0.",
  };

  it("shows its exit code and its stderr, redacted, instead of 'not installed'", async () => {
    const env = childEnv(brokenBin);
    const [r] = await checkTools(createZxRunner(env), [tool], (t) => t.replaceAll(PLANTED, REDACTED));
    expect(r).toEqual({
      id: "tools.broken",
      status: "fail",
      message: `brokentool is on PATH but \`brokentool --version\` failed (exit 2); it said:\n      brokentool: GOROOT is not set; key ${REDACTED}`,
      fix: "Fix what brokentool says, then run `brokentool --version` by hand until it works. Install brokentool 1.0.",
    });
  });

  it("a tool not on PATH is 'not installed' with its install hint", async () => {
    const [r] = await checkTools(createZxRunner(childEnv(emptyBin)), [tool]);
    expect(r).toEqual({
      id: "tools.broken",
      status: "fail",
      message: "brokentool is not installed (command not found on PATH)",
      fix: "Install brokentool 1.0.",
    });
  });
});
