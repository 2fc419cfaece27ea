// The flyctl stand-in's secrets commands (flyctl internal/command/secrets/): values only from stdin or argv, flyctl's importer
// quirks, staged vs deployed status, restart deploys that make releases, and the exact errors.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runFly, type RunFlyOptions } from "../fixtures/flyctl/run.ts";
import { createFakeFlyState, fakeSecretDigest, readFakeFlyState, seedReleases, updateFakeFlyState } from "../fixtures/flyctl/state.ts";

// Each case runs the real executable several times (about 0.3–1 s each under load).
vi.setConfig({ testTimeout: 60_000 });

const TOKEN = "FlyV1 fm2_stand_in_secrets_token";
let dir: string;
let state: string;

const fly = (args: string[], opts: RunFlyOptions = {}) =>
  runFly(args, { statePath: state, cwd: dir, ...opts, env: { FLY_API_TOKEN: TOKEN, ...opts.env } });
const app = (name = "backend") => readFakeFlyState(state).apps[name]!;
const values = (name = "backend") => Object.fromEntries(Object.entries(app(name).secrets).map(([k, v]) => [k, v.value]));
const list = async (name = "backend") =>
  JSON.parse((await fly(["secrets", "list", "--json", "-a", name])).stdout) as { name: string; digest: string; status: string }[];

afterEach(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fake-fly-secrets-"));
  state = join(dir, "state.json");
  createFakeFlyState(state, { validTokens: [TOKEN], apps: { backend: {}, web: {} } });
});

/** A deployed app: one release, one started machine. */
function deployed(name = "backend"): void {
  seedReleases(state, name, [{ version: 1, status: "complete", imageRef: `registry.fly.io/${name}:v1` }]);
}

describe("secrets import (internal/command/secrets/parser.go)", () => {
  it("C-07: shell-hostile values arrive exactly, from stdin only", async () => {
    const payload = 'ADMIN_HASH=$2b$10$abcdefghijklmnopqrstuv\nGREETING=hello world\nCERT="""-----BEGIN X-----\nAAA\n-----END X-----"""\n';
    const res = await fly(["secrets", "import", "--stage", "-a", "backend"], { input: payload });
    expect(res).toMatchObject({ code: 0, stderr: "" });
    expect(res.stdout).toBe(
      "Secrets have been staged, but not set on VMs. Deploy or update machines in this app for the secrets to take effect.\n",
    );
    expect(values()).toEqual({
      ADMIN_HASH: "$2b$10$abcdefghijklmnopqrstuv",
      GREETING: "hello world",
      CERT: "-----BEGIN X-----\nAAA\n-----END X-----",
    });
    const call = readFakeFlyState(state).calls.at(-1)!;
    expect(call.argv).toEqual(["secrets", "import", "--stage", "-a", "backend"]);
    expect(call.stdinFile).toBe(`${state}.stdin.0`);
    expect(readFileSync(call.stdinFile!, "utf8")).toBe(payload);
    expect(JSON.stringify(call)).not.toContain("abcdefghij");
  });

  it("follows flyctl's parser: # comments, single quotes give no protection, outer quotes stripped", async () => {
    const payload = `${["# comment", "", "P=ab#c", "Q='a#b'", 'R="a # b"', "S='x y'", "  T = v  ", 'U="""one"""', "DUP=1", "DUP=2", "E="].join("\n")}\n`;
    expect((await fly(["secrets", "import", "--stage", "-a", "backend"], { input: payload })).code).toBe(0);
    expect(values()).toEqual({ P: "ab", Q: "'a", R: "a # b", S: "x y", T: "v  ", U: "one", DUP: "2", E: "" });
  });

  it('silently drops an unterminated """ value; no pairs at all is an error', async () => {
    expect((await fly(["secrets", "import", "--stage", "-a", "backend"], { input: 'A=1\nB="""never\nclosed\n' })).code).toBe(0);
    expect(values()).toEqual({ A: "1" });
    const none = await fly(["secrets", "import", "-a", "backend"], { input: "# nothing\n" });
    expect(none).toMatchObject({ code: 1, stderr: "Error: requires at least one SECRET=VALUE pair\n" });
    // /dev/null is read to EOF like any other stdin.
    expect(await fly(["secrets", "import", "-a", "backend"], { stdin: "ignore" })).toMatchObject({
      code: 1,
      stderr: "Error: requires at least one SECRET=VALUE pair\n",
    });
  });

  it("a line without = fails (echoing the line, as flyctl does); a lone quote panics with exit 3", async () => {
    const bad = await fly(["secrets", "import", "-a", "backend"], { input: "A=1\nnot a pair\n" });
    expect(bad).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "Error: Failed to parse secrets from stdin: Secrets must be provided as NAME=VALUE pairs (not a pair is invalid)\n",
    });
    const panic = await fly(["secrets", "import", "-a", "backend"], { input: 'A="\n' });
    expect(panic.code).toBe(3);
    expect(panic.stdout).toMatch(/^Oops, something went wrong! Could you try that again\?\n\nruntime error: slice bounds out of range/);
    expect(values()).toEqual({});
  });

  it("an app that does not exist, or a bad token, fail before stdin is read", async () => {
    expect(await fly(["secrets", "import", "-a", "ghost"], { input: "A=1\n" })).toMatchObject({
      code: 1,
      stderr: 'Error: Could not find App "ghost"\n',
    });
    expect(readFakeFlyState(state).calls.at(-1)!.stdinFile).toBeUndefined();
    expect(await fly(["secrets", "import", "-a", "backend"], { input: "A=1\n", env: { FLY_API_TOKEN: "nope" } })).toMatchObject({
      code: 1,
      stderr: "Error: You must be authenticated to view this.\n",
    });
  });

  it("C-08 knob: echoes stdin to stdout and stderr, then fails", async () => {
    updateFakeFlyState(state, (s) => {
      s.knobs.echoStdinAndFailFor = ["backend"];
    });
    const res = await fly(["secrets", "import", "--stage", "-a", "backend"], { input: "API_TOKEN=tok_live_PLACEHOLDER123456\n" });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("API_TOKEN=tok_live_PLACEHOLDER123456\n");
    expect(res.stderr).toContain("API_TOKEN=tok_live_PLACEHOLDER123456\n");
    expect(values()).toEqual({});
  });
});

describe("staged vs deployed (fly secrets set --stage, fly secrets deploy, fly secrets list)", () => {
  it("a never-deployed app: secrets are staged for the first deployment, status Staged", async () => {
    const res = await fly(["secrets", "import", "-a", "backend"], { input: "A=1\n" });
    expect(res).toMatchObject({ code: 0, stdout: "Secrets are staged for the first deployment\n" });
    expect(await list()).toEqual([{ name: "A", digest: fakeSecretDigest("1"), status: "Staged" }]);
    expect(app().releases).toEqual([]);
  });

  it("the digest is the first 16 hex digits of sha256(value)", async () => {
    await fly(["secrets", "set", "--stage", "-a", "backend", "X=secret value"]);
    expect((await list())[0]!.digest).toBe(createHash("sha256").update("secret value").digest("hex").slice(0, 16));
  });

  it("--stage keeps the machines on the old values (Staged); secrets deploy makes a release (Deployed)", async () => {
    deployed();
    expect((await fly(["secrets", "import", "--stage", "-a", "backend"], { input: "A=1\nB=2\n" })).code).toBe(0);
    expect((await list()).map((s) => s.status)).toEqual(["Staged", "Staged"]);
    const table = await fly(["secrets", "list", "-a", "backend"]);
    expect(table.stdout).toBe(
      [
        ` NAME │ DIGEST           │ STATUS `,
        ` * A  │ ${fakeSecretDigest("1")} │ Staged `,
        ` * B  │ ${fakeSecretDigest("2")} │ Staged `,
        "",
        "There are 2 secrets not deployed. Deploy with `fly secrets deploy` to make them available.",
        "",
      ].join("\n"),
    );

    const res = await fly(["secrets", "deploy", "-a", "backend"], { env: { FLY_EMIT_RELEASE_JSON: "1" } });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Updating existing machines in 'backend' with rolling strategy\n");
    expect(res.stdout).toMatch(/✔ Machine [0-9a-f]{14} \[app\] update succeeded\n/);
    const emitted = res.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
    const releases = app().releases;
    expect(releases.map((r) => [r.Version, r.Status, r.ImageRef])).toEqual([
      [1, "complete", "registry.fly.io/backend:v1"],
      [2, "complete", "registry.fly.io/backend:v1"],
    ]);
    expect(emitted).toEqual([{ id: releases[1]!.ID, version: 2, image_ref: "registry.fly.io/backend:v1" }]);
    expect((await list()).map((s) => s.status)).toEqual(["Deployed", "Deployed"]);
    expect(app().machines[0]!.config.metadata!.fly_release_version).toBe("2");
    expect((await fly(["secrets", "list", "-a", "backend"])).stdout).not.toContain("not deployed");
  });

  it("set/unset without --stage restart the machines: each makes a release with the same image", async () => {
    deployed();
    const set = await fly(["secrets", "set", "-a", "backend", "A=1", "B=x=y"]);
    expect(set.code).toBe(0);
    expect(values()).toEqual({ A: "1", B: "x=y" });
    expect((await list()).every((s) => s.status === "Deployed")).toBe(true);
    const unset = await fly(["secrets", "unset", "-a", "backend", "A", "NEVER_SET"]);
    expect(unset.code).toBe(0);
    expect(values()).toEqual({ B: "x=y" });
    expect(app().releases.map((r) => [r.Version, r.ImageRef])).toEqual([
      [1, "registry.fly.io/backend:v1"],
      [2, "registry.fly.io/backend:v1"],
      [3, "registry.fly.io/backend:v1"],
    ]);
  });

  it("secrets deploy on an app with no machines fails with flyctl's text (internal/command/secrets/deploy.go)", async () => {
    const res = await fly(["secrets", "deploy", "-a", "backend"]);
    expect(res).toMatchObject({
      code: 1,
      stdout: "",
      stderr:
        "Error: no machines available to deploy\n'fly secrets deploy' will only work if the app has been deployed and there are machines available\n\nTry 'fly deploy' first\n\n",
    });
  });

  it("a restart deploy that fails its health checks exits 1 and leaves a failed release", async () => {
    deployed();
    updateFakeFlyState(state, (s) => {
      s.knobs.failHealthFor = ["backend"];
    });
    const res = await fly(["secrets", "set", "-a", "backend", "A=1"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^Error: timeout reached waiting for health checks to pass for machine [0-9a-f]{14}: /);
    expect(app().releases.at(-1)!.Status).toBe("failed");
    // --detach skips the waits, so the same restart succeeds.
    expect((await fly(["secrets", "set", "--detach", "-a", "backend", "A=2"])).code).toBe(0);
  });
});

describe("secrets set, unset, sync: arguments (internal/command/secrets/set.go, sync.go)", () => {
  it("NAME=- reads the value from stdin, whitespace-trimmed", async () => {
    const res = await fly(["secrets", "set", "--stage", "-a", "backend", "PEM=-"], { input: "  line1\nline2\n\n" });
    expect(res.code).toBe(0);
    expect(values()).toEqual({ PEM: "line1\nline2" });
    expect(readFileSync(readFakeFlyState(state).calls.at(-1)!.stdinFile!, "utf8")).toBe("  line1\nline2\n\n");
  });

  it("NAME=- without piped stdin, an argument without =, and no argument fail with flyctl's texts", async () => {
    expect(await fly(["secrets", "set", "-a", "backend", "PEM=-"], { stdin: "ignore" })).toMatchObject({
      code: 1,
      stderr: "Error: secret `PEM` expects standard input but none provided\n",
    });
    expect(await fly(["secrets", "set", "-a", "backend", "JUSTNAME"])).toMatchObject({
      code: 1,
      stderr: "Error: could not parse secrets: 'JUSTNAME': must be in the format NAME=VALUE\n",
    });
    expect(await fly(["secrets", "set", "-a", "backend"])).toMatchObject({
      code: 1,
      stderr: "Error: requires at least 1 arg(s), only received 0\n",
    });
    expect(await fly(["secrets", "unset", "-a", "backend"])).toMatchObject({
      code: 1,
      stderr: "Error: requires at least 1 arg(s), only received 0\n",
    });
    expect(await fly(["secrets", "set", "-a", "backend", "BIG=-"], { input: "x".repeat(65537) })).toMatchObject({
      code: 1,
      stderr: "Error: error reading stdin for 'BIG': Input exceeded max length of 65536 bytes\n",
    });
  });

  it("secrets sync prints nothing and changes nothing", async () => {
    deployed();
    const before = app();
    expect(await fly(["secrets", "sync", "-a", "backend"])).toMatchObject({ code: 0, stdout: "", stderr: "" });
    expect(app()).toEqual(before);
  });

  it("secrets list --json prints [] for no secrets", async () => {
    expect((await fly(["secrets", "ls", "-j", "-a", "web"])).stdout).toBe("[]\n");
  });
});
