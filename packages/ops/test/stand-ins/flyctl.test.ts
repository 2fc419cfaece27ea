// The flyctl stand-in, run as a real executable through PATH: identity, auth (flyctl
// internal/config/config.go), argv parsing (cobra/pflag), errors and exit codes (internal/cli/cli.go),
// the read-only --json commands (releases, ips list, status, auth whoami, apps list, version),
// config validation (`fly config validate`) and signals.
import { rmSync, mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runFly, type RunFlyOptions } from "../fixtures/flyctl/run.ts";
import { createFakeFlyState, readFakeFlyState, seedReleases, updateFakeFlyState, type FakeFlyInit } from "../fixtures/flyctl/state.ts";

// Each case runs the real executable several times (about 0.3–1 s each under load).
vi.setConfig({ testTimeout: 60_000 });

const TOKEN = "FlyV1 fm2_stand_in_test_token";
let dir: string;
let state: string;

function setup(init: FakeFlyInit = {}): void {
  createFakeFlyState(state, { validTokens: [TOKEN], ...init });
}
const fly = (args: string[], opts: RunFlyOptions = {}) =>
  runFly(args, { statePath: state, cwd: dir, ...opts, env: { FLY_API_TOKEN: TOKEN, ...opts.env } });
const lastCall = () => readFakeFlyState(state).calls.at(-1)!;

afterEach(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fake-fly-"));
  state = join(dir, "state.json");
  setup();
});

describe("identity and the call log", () => {
  it("version: text and compact --json, no session needed, both names", async () => {
    for (const exe of ["flyctl", "fly"] as const) {
      const text = await runFly(["version"], { statePath: state, exe });
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^flyctl v0\.4\.87 linux\/(amd64|arm64) Commit: [0-9a-f]{40} BuildDate: 2026-08-21T14:11:32Z\n$/);
      expect(text.stderr).toBe("");
    }
    const json = await runFly(["version", "--json"], { statePath: state });
    expect(json.stdout.endsWith("}\n")).toBe(true);
    expect(json.stdout.split("\n")).toHaveLength(2);
    expect(Object.keys(JSON.parse(json.stdout))).toEqual([
      "Name",
      "Version",
      "Commit",
      "BranchName",
      "BuildDate",
      "OS",
      "Architecture",
      "Environment",
    ]);
    expect(JSON.parse(json.stdout)).toMatchObject({ Name: "flyctl", Version: "0.4.87", BranchName: "", Environment: "production" });
  });

  it("records argv exactly, token presence (never values), exit code and time", async () => {
    await fly(["releases", "--json", "-a", "nope"], { env: { FLY_ACCESS_TOKEN: undefined, FLY_EMIT_RELEASE_JSON: "1" } });
    const call = lastCall();
    expect(call.argv).toEqual(["releases", "--json", "-a", "nope"]);
    expect(call.env).toEqual({ FLY_API_TOKEN: "set", FLY_EMIT_RELEASE_JSON: "1" });
    expect(call.exitCode).toBe(1);
    expect(Date.parse(call.at)).not.toBeNaN();
    expect(call.stdinFile).toBeUndefined();

    await fly(["auth", "whoami", "-t", TOKEN], { env: { FLY_API_TOKEN: "", FLY_ACCESS_TOKEN: "" } });
    await fly(["auth", "whoami", `--access-token=${TOKEN}`]);
    await fly(["-jt", TOKEN, "auth", "whoami"]);
    const calls = readFakeFlyState(state).calls.slice(-3);
    expect(calls.map((c) => c.argv)).toEqual([
      ["auth", "whoami", "-t", "<redacted>"],
      ["auth", "whoami", "--access-token=<redacted>"],
      ["-jt", "<redacted>", "auth", "whoami"],
    ]);
    expect(calls[0]!.env).toEqual({ FLY_API_TOKEN: "empty", FLY_ACCESS_TOKEN: "empty" });
    expect(JSON.stringify(readFakeFlyState(state).calls)).not.toContain("stand_in_test_token");
  });

  it("parallel invocations never corrupt the state (lock + rename)", async () => {
    setup({ apps: { web: {} } });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => fly(["secrets", "set", "--stage", "-a", "web", `K${i}=v${i}`])));
    expect(results.map((r) => r.code)).toEqual(Array(12).fill(0));
    const s = readFakeFlyState(state);
    expect(Object.keys(s.apps.web!.secrets).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `K${i}`).sort());
    expect(s.calls).toHaveLength(12);
    expect(s.calls.every((c) => c.exitCode === 0)).toBe(true);
  });

  it("fails loudly (exit 2) without FAKE_FLY_STATE", async () => {
    const res = await runFly(["version"], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^fake flyctl: FAKE_FLY_STATE is not set/);
  });
});

describe("auth (fly auth whoami; token lookup of internal/config/config.go)", () => {
  it('whoami prints the email, or {"email"} as 4-space JSON', async () => {
    expect(await fly(["auth", "whoami"])).toMatchObject({ code: 0, stdout: "ops@example.com\n", stderr: "" });
    expect((await fly(["auth", "whoami", "--json"])).stdout).toBe('{\n    "email": "ops@example.com"\n}\n');
  });

  it("an empty FLY_ACCESS_TOKEN hides a valid FLY_API_TOKEN (the first *set* variable wins)", async () => {
    const res = await fly(["auth", "whoami"], { env: { FLY_ACCESS_TOKEN: "" } });
    expect(res).toMatchObject({ code: 1, stdout: "", stderr: "Error: no access token available. Please login with 'flyctl auth login'\n" });
  });

  it("FLY_ACCESS_TOKEN wins over FLY_API_TOKEN; -t/--access-token wins over both, even when empty", async () => {
    expect((await fly(["auth", "whoami"], { env: { FLY_ACCESS_TOKEN: "bogus" } })).code).toBe(1);
    expect((await fly(["auth", "whoami"], { env: { FLY_ACCESS_TOKEN: TOKEN, FLY_API_TOKEN: "bogus" } })).code).toBe(0);
    expect((await fly(["auth", "whoami", "-t", TOKEN], { env: { FLY_ACCESS_TOKEN: "", FLY_API_TOKEN: "" } })).code).toBe(0);
    const empty = await fly(["auth", "whoami", "--access-token="]);
    expect(empty.stderr).toBe("Error: no access token available. Please login with 'flyctl auth login'\n");
  });

  it("no token at all, and an unknown token, fail with flyctl's texts (exit 1)", async () => {
    const none = await fly(["apps", "list", "--json"], { env: { FLY_API_TOKEN: undefined } });
    expect(none).toMatchObject({ code: 1, stderr: "Error: no access token available. Please login with 'flyctl auth login'\n" });
    const bad = await fly(["auth", "whoami"], { env: { FLY_API_TOKEN: "FlyV1 fm2_revoked" } });
    expect(bad).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "Error: failed retrieving current user: You must be authenticated to view this.\n",
    });
  });
});

describe("argv, errors and exit codes (internal/cli/cli.go)", () => {
  beforeEach(() => setup({ apps: { web: {} } }));

  it("an unknown top-level command: exit 1, cobra's message, usage hint on stdout", async () => {
    const res = await fly(["frobnicate"]);
    expect(res).toMatchObject({
      code: 1,
      stderr: 'Error: unknown command "frobnicate" for "flyctl"\n',
      stdout: "Run 'flyctl --help' for usage.\n\n",
    });
    const typo = await fly(["secret", "list"]);
    expect(typo.stderr).toBe('Error: unknown command "secret" for "flyctl"\n\nDid you mean this?\n\tsecrets\n\n');
  });

  it("an unknown sub-command prints the group's help and exits 0", async () => {
    const res = await fly(["secrets", "frob"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Usage:\n  flyctl secrets [command]");
    expect(res.stdout).toMatch(/Available Commands:[\s\S]*import/);
    expect(res.stderr).toBe("");
    expect((await fly(["secrets"])).code).toBe(0);
  });

  it("unknown flags and missing flag values are pflag errors (exit 1)", async () => {
    expect(await fly(["status", "--jsn", "-a", "web"])).toMatchObject({ code: 1, stderr: "Error: unknown flag: --jsn\n" });
    expect(await fly(["status", "-x"])).toMatchObject({ code: 1, stderr: "Error: unknown shorthand flag: 'x' in -x\n" });
    expect(await fly(["status", "--json", "-a"])).toMatchObject({ code: 1, stderr: "Error: flag needs an argument: 'a' in -a\n" });
    expect(await fly(["status", "--app"])).toMatchObject({ code: 1, stderr: "Error: flag needs an argument: --app\n" });
    expect(await fly(["status", "--json=maybe", "-a", "web"])).toMatchObject({
      code: 1,
      stderr: 'Error: invalid argument "maybe" for "-j, --json" flag: strconv.ParseBool: parsing "maybe": invalid syntax\n',
    });
    expect(await fly(["status", "extra", "-a", "web"])).toMatchObject({
      code: 1,
      stderr: 'Error: unknown command "extra" for "flyctl status"\n',
    });
  });

  it("the app name comes from -a x / --app x / --app=x / -ax, then FLY_APP, then the config", async () => {
    for (const args of [["-a", "web"], ["--app", "web"], ["--app=web"], ["-aweb"], ["-ja", "web"]]) {
      const res = await fly(["status", "--json", ...args]);
      expect(res.code, args.join(" ")).toBe(0);
      expect(JSON.parse(res.stdout).Name).toBe("web");
    }
    expect(JSON.parse((await fly(["status", "-j"], { env: { FLY_APP: "web" } })).stdout).Name).toBe("web");
    writeFileSync(join(dir, "fly.toml"), 'app = "web"\n');
    expect(JSON.parse((await fly(["status", "-j"])).stdout).Name).toBe("web");
    mkdirSync(join(dir, "cfg"));
    writeFileSync(join(dir, "cfg", "fly.toml"), 'app = "nope"\n');
    expect((await fly(["status", "-j", "-c", "cfg/fly.toml"])).stderr).toBe('Error: failed to get app: Could not find App "nope"\n');
    expect(JSON.parse((await fly(["status", "-j", "-c", "cfg/fly.toml", "-a", "web"])).stdout).Name).toBe("web");
    // -c with a directory does not fall back to <dir>/fly.toml: that is only tried when the path does not exist.
    expect((await fly(["status", "-j", "-c", "cfg"])).stderr).toBe("Error: failed loading app config from cfg: read cfg: is a directory\n");
  });

  it("no app name anywhere, and -c discovery failures (internal/command/command.go)", async () => {
    expect(await fly(["releases", "--json"])).toMatchObject({
      code: 1,
      stderr: "Error: the config for your app is missing an app name, add an app field to the fly.toml file or specify with the -a flag\n",
    });
    expect(await fly(["releases", "--json", "-a", "web", "-c", "missing.toml"])).toMatchObject({
      code: 1,
      stderr: "Error: config file not found at specified path: missing.toml (also tried: missing.toml/fly.toml)\n",
    });
    mkdirSync(join(dir, "empty"));
    expect((await fly(["releases", "--json", "-a", "web", "-c", "empty"])).stderr).toBe(
      "Error: failed loading app config from empty: read empty: is a directory\n",
    );
    writeFileSync(join(dir, "bad.toml"), 'app = "web"\n[http_service\n');
    expect((await fly(["releases", "--json", "-c", "bad.toml"])).stderr).toMatch(
      /^Error: failed loading app config from bad\.toml: row 2 column \d+\n/,
    );
  });

  it("a real flyctl command the stand-in does not emulate fails loudly with exit 2", async () => {
    const res = await fly(["logs", "-a", "web"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe("fake flyctl: `flyctl logs` is a real flyctl command the stand-in does not emulate\n");
  });
});

const APP_KEYS = [
  "ID",
  "InternalNumericID",
  "Name",
  "State",
  "Status",
  "Deployed",
  "Hostname",
  "AppURL",
  "Version",
  "NetworkID",
  "Network",
  "Release",
  "Organization",
  "Secrets",
  "CurrentRelease",
  "Releases",
  "IPAddresses",
  "EgressIpAddresses",
  "SharedIPAddress",
  "CNAMETarget",
  "IPAddress",
  "Certificates",
  "Certificate",
  "PostgresAppRole",
  "Image",
  "ImageUpgradeAvailable",
  "ImageVersionTrackingEnabled",
  "ImageDetails",
  "LatestImageDetails",
  "PlatformVersion",
  "Machines",
  "CurrentLock",
];
const RELEASE_KEYS = [
  "ID",
  "Version",
  "Stable",
  "InProgress",
  "Reason",
  "Description",
  "Status",
  "DeploymentStrategy",
  "Metadata",
  "User",
  "EvaluationID",
  "CreatedAt",
  "ImageRef",
];

describe("read-only --json commands", () => {
  it("apps list --json: full fly-go App objects in field order; [] with no apps; -q names", async () => {
    expect((await fly(["apps", "list", "--json"])).stdout).toBe("[]\n");
    expect((await fly(["apps", "list"])).stdout).toBe("No apps found\n");
    setup({ apps: { web: { org: "acme" }, api: {} } });
    seedReleases(state, "web", [{ version: 1, status: "complete", imageRef: "registry.fly.io/web:a" }]);
    const res = await fly(["apps", "ls", "-j"]);
    expect(res.stdout.startsWith('[\n    {\n        "ID": "api",\n')).toBe(true);
    const apps = JSON.parse(res.stdout);
    expect(apps.map((a: { Name: string }) => a.Name)).toEqual(["api", "web"]);
    expect(Object.keys(apps[1])).toEqual(APP_KEYS);
    expect(apps[1]).toMatchObject({
      ID: "web",
      Status: "deployed",
      Deployed: true,
      Hostname: "web.fly.dev",
      PlatformVersion: "machines",
      Organization: { Slug: "acme", Name: "acme" },
    });
    expect(apps[1].CurrentRelease).toMatchObject({ Status: "complete", Version: 0, ImageRef: "" });
    expect(apps[0]).toMatchObject({ Status: "pending", Deployed: false, CurrentRelease: null });
    expect(apps[0].Certificate.CreatedAt).toBe("0001-01-01T00:00:00Z");
    expect((await fly(["apps", "list", "-q"])).stdout).toBe(" api \n web \n\n");
  });

  it("releases --json: fly-go Release objects, newest first, 25 at most; --image changes nothing", async () => {
    setup({ apps: { web: {} } });
    seedReleases(
      state,
      "web",
      Array.from({ length: 30 }, (_, i) => ({
        version: i + 1,
        status: i === 29 ? "failed" : "complete",
        imageRef: `registry.fly.io/web:v${i + 1}`,
      })),
    );
    const res = await fly(["releases", "--json", "-a", "web"]);
    expect(res.code).toBe(0);
    const releases = JSON.parse(res.stdout);
    expect(releases).toHaveLength(25);
    expect(releases.map((r: { Version: number }) => r.Version)).toEqual(Array.from({ length: 25 }, (_, i) => 30 - i));
    expect(Object.keys(releases[0])).toEqual(RELEASE_KEYS);
    expect(releases[0]).toMatchObject({
      Status: "failed",
      Stable: false,
      ImageRef: "registry.fly.io/web:v30",
      Metadata: null,
      User: { Email: "ops@example.com" },
    });
    expect(releases[1].CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect((await fly(["releases", "--json", "--image", "-a", "web"])).stdout).toBe(res.stdout);
    expect((await fly(["apps", "releases", "--json", "-a", "web"])).stdout).toBe(res.stdout);
    expect(await fly(["releases", "--json", "-a", "ghost"])).toMatchObject({
      code: 1,
      stderr: 'Error: failed retrieving app releases ghost: Could not find App "ghost"\n',
    });
    expect((await fly(["releases", "-a", "web"])).code).toBe(2); // the table is not emulated
  });

  it("status --json: sorted top-level keys, lowercase machines sorted by id descending", async () => {
    setup({ apps: { web: { org: "acme" } } });
    seedReleases(state, "web", [
      { version: 1, status: "complete", imageRef: "registry.fly.io/web:a" },
      { version: 2, status: "failed", imageRef: "registry.fly.io/web:b" },
    ]);
    updateFakeFlyState(state, (s) => {
      const m = s.apps.web!.machines[0]!;
      s.apps.web!.machines.push({ ...m, id: "0000000000000a", config: { ...m.config, metadata: { ...m.config.metadata } } });
      s.apps.web!.machines.push({ ...m, id: "fffffffffffff0", state: "destroyed", config: { ...m.config } });
    });
    const res = await fly(["status", "--json", "-a", "web"]);
    expect(res.code).toBe(0);
    const status = JSON.parse(res.stdout);
    expect(Object.keys(status)).toEqual([
      "AppURL",
      "Deployed",
      "Hostname",
      "ID",
      "Machines",
      "Name",
      "Organization",
      "PlatformVersion",
      "Status",
      "Version",
    ]);
    expect(status).toMatchObject({
      AppURL: "",
      Deployed: true,
      Hostname: "web.fly.dev",
      ID: "web",
      Name: "web",
      PlatformVersion: "machines",
      Status: "deployed",
      Version: 1,
    });
    expect(Object.keys(status.Organization)).toEqual(["ID", "InternalNumericID", "Name", "Slug", "RawSlug", "PaidPlan"]);
    expect(status.Organization.Slug).toBe("acme");
    expect(status.Machines).toHaveLength(2);
    expect(status.Machines[1].id).toBe("0000000000000a");
    const m = status.Machines[0];
    expect(Object.keys(m).slice(0, 5)).toEqual(["id", "name", "state", "region", "image_ref"]);
    expect(m.state).toBe("started");
    expect(m.config.image).toBe("registry.fly.io/web:a");
    expect(m.config.metadata.fly_release_version).toBe("1");
    expect(m.image_ref).toEqual({ registry: "registry.fly.io", repository: "web", tag: "a" });
    expect(res.stdout).toContain('\n    "Machines": [\n        {\n            "id": ');
    expect((await fly(["status", "--json", "--watch", "-a", "web"])).stderr).toBe("Error: --watch and --json are not supported together\n");
    expect((await fly(["status", "-a", "ghost", "--json"])).stderr).toBe('Error: failed to get app: Could not find App "ghost"\n');
  });

  it("ips list --json: [] for an internal app; the C-22 knob gives it a public v6 and shared_v4", async () => {
    setup({ apps: { backend: {} } });
    expect(await fly(["ips", "list", "--json", "-a", "backend"])).toMatchObject({ code: 0, stdout: "[]\n" });
    updateFakeFlyState(state, (s) => {
      s.knobs.allocatePublicIpsFor = ["backend"];
    });
    const res = await fly(["ips", "ls", "-j", "-a", "backend"]);
    const ips = JSON.parse(res.stdout);
    expect(ips.map((ip: { Type: string }) => ip.Type).sort()).toEqual(["shared_v4", "v6"]);
    for (const ip of ips) expect(Object.keys(ip)).toEqual(["ID", "Address", "Type", "Region", "CreatedAt", "ServiceName", "Network"]);
    expect(ips[0].Network).toBeNull();
    // Stable across calls (allocated once, kept).
    expect((await fly(["ips", "list", "--json", "-a", "backend"])).stdout).toBe(res.stdout);
  });

  it("FLY_JSON turns JSON on where the command supports it", async () => {
    expect((await fly(["auth", "whoami"], { env: { FLY_JSON: "true" } })).stdout).toBe('{\n    "email": "ops@example.com"\n}\n');
  });

  it("JSON strings are escaped like Go (<, >, & as \\u003c, \\u003e, \\u0026)", async () => {
    setup({ user: { email: "a<b>&c@example.com" } });
    expect((await fly(["auth", "whoami", "--json"])).stdout).toBe('{\n    "email": "a\\u003cb\\u003e\\u0026c@example.com"\n}\n');
  });
});

describe("config validate (fly config validate, internal/appconfig/strict_validate.go)", () => {
  beforeEach(() => setup({ apps: { web: {} } }));

  it("valid config, then strict mode listing unknown keys (exit 1)", async () => {
    writeFileSync(
      join(dir, "fly.toml"),
      'app = "web"\nprimary_region = "iad"\nfrobnicate = 1\n[deploy]\n  strategy = "rolling"\n  typo_key = true\n[http_service]\n  internal_port = 3000\n',
    );
    expect(await fly(["config", "validate"])).toMatchObject({
      code: 0,
      stdout: `Validating ${join(dir, "fly.toml")}\n✓ Configuration is valid\n\n`,
    });
    const strict = await fly(["config", "validate", "--strict"]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("\nStrict validation found unrecognised sections or keys:\n  - frobnicate\n  - deploy.typo_key\n\n\n");
    expect(strict.stderr).toBe("Error: strict validation failed\n");
  });

  it("an unsupported strategy and a bad top-level check make the config invalid", async () => {
    writeFileSync(join(dir, "fly.toml"), 'app = "web"\n[deploy]\n  strategy = "yolo"\n[checks.alive]\n  port = 8080\n');
    const res = await fly(["config", "validate"]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      "unsupported deployment strategy 'yolo'; Apps v2 supports the following strategies: canary, rolling, immediate, bluegreen",
    );
    expect(res.stdout).toContain("Can't process top level check 'alive': Missing or invalid check type, must be 'http' or 'tcp'\n");
    expect(res.stdout).toContain("\n   ✘invalid app configuration\n");
    expect(res.stderr).toBe("Error: App configuration is not valid\n");
  });
});
