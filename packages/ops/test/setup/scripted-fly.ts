/**
 * An in-process runner that answers flyctl as flyctl documents and implements it, for step tests
 * that must run in milliseconds: the `--json` shapes of `releases` (fly-go `types.go` `Release`,
 * Go field names), `status` (sorted top-level keys, machines with fly-go `machine_types.go`
 * lowercase keys), `secrets list` (`name`/`digest`/`status`, flyctl v0.4.6+), `ips list` (fly-go
 * `IPAddress`), `version` (one compact line), `auth whoami`, `apps list`; `Error: …` on stderr and
 * exit 1 on failure (flyctl `internal/cli/cli.go`); the `FLY_EMIT_RELEASE_JSON` line of a deploy
 * (flyctl `internal/command/deploy/`). It keeps a small per-app world a deploy or a secrets
 * import changes, so reads after a write see it. Written from flyctl's documented behaviour, not
 * from our parsers; imports only types from src/.
 */
import { createHash } from "node:crypto";
import type { Cmd, Runner, RunResult } from "../../src/runner/types.ts";

/** fly-go `Release` with its Go field names, in declaration order (flyctl `internal/command/releases/releases.go`). */
export interface RefRelease {
  ID: string;
  Version: number;
  Stable: boolean;
  InProgress: boolean;
  Reason: string;
  Description: string;
  Status: string;
  DeploymentStrategy: string;
  Metadata: null;
  User: { ID: string; Name: string; Email: string; EnablePaidHobby: boolean };
  EvaluationID: string;
  CreatedAt: string;
  ImageRef: string;
}

/** One app of the world: its releases (any order), machines (the image each runs), secrets and IPs. */
export interface ScriptedApp {
  releases: RefRelease[];
  /** Image each machine runs (`registry/repository:tag`), with its check status. */
  machines: { id: string; image: string; check?: "passing" | "critical" }[];
  secrets: { name: string; digest: string; status: "Deployed" | "Staged" }[];
  /** fly-go `IPAddress.Type` values: `v4`, `shared_v4`, `v6`, `private_v6`. */
  ips: string[];
  /** `-e RELEASE_ID=…` of the last deploy (what the app reports on /healthz). */
  releaseId?: string;
  /** Whether the app has an HTTP service (the deploy prints the "Visit …" lines after the release JSON). */
  public?: boolean;
}

export interface ScriptedWorld {
  apps: Record<string, ScriptedApp>;
}

/** A refusal: when `match(argv)` holds, flyctl prints `Error: <message>` on stderr and exits `exitCode` (default 1). */
export interface ScriptedFailure {
  match: (argv: string[]) => boolean;
  message: string;
  exitCode?: number;
}

/** What the tools preflight probes print for their version (`go version`, `git --version`, `pnpm --version`). */
export const TOOL_VERSIONS: Record<string, string> = {
  go: "go version go1.24.4 linux/amd64\n",
  git: "git version 2.47.2\n",
  pnpm: "12.4.2\n",
};

const USER = { ID: "U1", Name: "Ops", Email: "ops@example.test", EnablePaidHobby: false };

/** A release as `fly releases --json` prints it. */
export function refRelease(version: number, imageRef: string, opts: { status?: string; createdAt?: string } = {}): RefRelease {
  return {
    ID: `rel_${version}`,
    Version: version,
    Stable: true,
    InProgress: false,
    Reason: "",
    Description: "Deploy image",
    Status: opts.status ?? "complete",
    DeploymentStrategy: "ROLLING",
    Metadata: null,
    User: USER,
    EvaluationID: "",
    CreatedAt: opts.createdAt ?? `2026-12-0${Math.min(version, 9)}T10:00:00Z`,
    ImageRef: imageRef,
  };
}

const json = (v: unknown) => `${JSON.stringify(v, null, 4)}\n`;
const digest = (value: string) => createHash("sha256").update(value).digest("hex").slice(0, 16);
const flag = (argv: string[], name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const imageParts = (ref: string) => {
  const [repoPart, tag] = ref.split(":");
  const slash = repoPart!.indexOf("/");
  return { registry: repoPart!.slice(0, slash), repository: repoPart!.slice(slash + 1), tag: tag ?? "latest", digest: "", labels: {} };
};

/** `fly status --json`: sorted top-level keys, machines with lowercase keys, by id descending (flyctl `internal/command/status/status.go`). */
function statusJson(name: string, app: ScriptedApp) {
  const current = [...app.releases].sort((a, b) => b.Version - a.Version).find((r) => r.Status === "complete");
  return {
    AppURL: app.public ? `https://${name}.fly.dev` : "",
    Deployed: app.releases.length > 0,
    Hostname: `${name}.fly.dev`,
    ID: name,
    Machines: [...app.machines]
      .sort((a, b) => b.id.localeCompare(a.id))
      .map((m) => ({
        id: m.id,
        name: `machine-${m.id}`,
        state: "started",
        region: "iad",
        image_ref: imageParts(m.image),
        instance_id: `inst-${m.id}`,
        private_ip: "fdaa:0:1::2",
        config: { image: m.image, metadata: { fly_process_group: "app", fly_release_version: String(current?.Version ?? 0) } },
        checks: [{ name: "servicecheck-00-http", status: m.check ?? "passing", output: "", updated_at: "2026-12-01T10:00:00Z" }],
        created_at: "2026-12-01T10:00:00Z",
        updated_at: "2026-12-01T10:00:00Z",
      })),
    Name: name,
    Organization: { ID: "O1", InternalNumericID: "1", Name: "Personal", Slug: "personal", RawSlug: "personal", PaidPlan: false },
    PlatformVersion: "machines",
    Status: app.releases.length ? "deployed" : "pending",
    Version: current?.Version ?? 0,
  };
}

/** Parses the `NAME=VALUE` lines of `fly secrets import` (the simple subset the tests send: no quotes or comments). */
function importPairs(stdin: string): [string, string][] {
  return stdin
    .split("\n")
    .filter((l) => l.includes("="))
    .map((l) => [l.slice(0, l.indexOf("=")).trim(), l.slice(l.indexOf("=") + 1)] as [string, string]);
}

/** Deploys an image: a new complete release, every machine on it (flyctl `internal/command/deploy/machines.go`). */
function deployImage(app: ScriptedApp, image: string, releaseId: string | undefined) {
  const version = Math.max(0, ...app.releases.map((r) => r.Version)) + 1;
  const release = refRelease(version, image, { createdAt: `2026-12-07T0${Math.min(version, 9)}:00:00Z` });
  app.releases.push(release);
  for (const m of app.machines) m.image = image;
  if (releaseId) app.releaseId = releaseId;
  for (const s of app.secrets) s.status = "Deployed";
  return release;
}

export interface ScriptedFly {
  runner: Runner;
  world: ScriptedWorld;
  /** argv of every command run, in order (`flyctl …`, `git …`). */
  calls: string[][];
  /** What each command got on stdin (revealed), in call order; for leak checks. */
  stdin: string[];
}

/**
 * A runner for the fly target. flyctl commands are answered from `world` (deep-copied, so each
 * context starts from the same facts); `git rev-parse HEAD` / `git status --porcelain` answer a
 * clean checkout; a tool's version probe answers like the tool (`versions`, default
 * {@link TOOL_VERSIONS}); anything else exits 0 with empty output.
 */
export function scriptedFly(
  initial: ScriptedWorld,
  opts: { failures?: ScriptedFailure[]; versions?: Record<string, string> } = {},
): ScriptedFly {
  const world = structuredClone(initial) as ScriptedWorld;
  const calls: string[][] = [];
  const stdin: string[] = [];
  const runner: Runner = async (cmd: Cmd) => {
    const argv = [cmd.file, ...cmd.args];
    calls.push(argv);
    const input = cmd.input === undefined ? "" : typeof cmd.input === "string" ? cmd.input : cmd.input.reveal();
    stdin.push(input);
    const done = (stdout: string, exitCode = 0, stderr = ""): RunResult => ({
      ok: exitCode === 0,
      exitCode,
      signal: null,
      stdout,
      stderr,
      durationMs: 1,
      command: argv.join(" "),
    });
    const failure = opts.failures?.find((f) => f.match(argv));
    if (failure) return done("", failure.exitCode ?? 1, `Error: ${failure.message}\n`);
    if (cmd.file === "git" && cmd.args[0] === "--version") return done((opts.versions ?? TOOL_VERSIONS).git ?? "");
    if (cmd.file === "git") return done(cmd.args[0] === "rev-parse" ? "0123456789abcdef0123456789abcdef01234567\n" : "");
    if (cmd.file !== "flyctl" && cmd.file !== "fly") return done((opts.versions ?? TOOL_VERSIONS)[cmd.file] ?? "");
    return answerFlyctl(world, cmd, input, done);
  };
  return { runner, world, calls, stdin };
}

function answerFlyctl(
  world: ScriptedWorld,
  cmd: Cmd,
  input: string,
  done: (stdout: string, exitCode?: number, stderr?: string) => RunResult,
): RunResult {
  const a = cmd.args;
  const name = flag(a, "-a") ?? "";
  const app = world.apps[name];
  const sub = a.slice(0, 2).join(" ");
  if (a[0] === "version")
    return done(
      '{"Name":"flyctl","Version":"0.4.87","Commit":"ad0dc5f","BranchName":"","BuildDate":"2026-08-21T00:00:00Z","OS":"linux","Architecture":"amd64","Environment":"production"}\n',
    );
  if (sub === "auth whoami") return done(json({ email: "ops@example.test" }));
  if (sub === "apps list")
    return done(
      json(
        Object.keys(world.apps).map((n) => ({
          ID: n,
          Name: n,
          Status: "deployed",
          Deployed: true,
          Hostname: `${n}.fly.dev`,
          PlatformVersion: "machines",
          Organization: { Slug: "personal", Name: "Personal" },
          CurrentRelease: { CreatedAt: "2026-12-01T10:00:00Z", Status: "complete" },
        })),
      ),
    );
  if (!app) return done("", 1, `Error: app not found: could not find app "${name}"\n`);
  if (a[0] === "releases") return done(json([...app.releases].sort((x, y) => y.Version - x.Version).slice(0, 25)));
  if (a[0] === "status") return done(json(statusJson(name, app)));
  if (sub === "ips list")
    return done(
      json(
        app.ips.map((type, i) => ({
          ID: `ip${i}`,
          Address: type.endsWith("v4") ? `66.241.125.${i + 1}` : `2a09:8280:1::${i + 1}`,
          Type: type,
          Region: "global",
          CreatedAt: "2026-12-01T10:00:00Z",
          ServiceName: "",
          Network: null,
        })),
      ),
    );
  if (sub === "secrets list") return done(json(app.secrets));
  if (sub === "secrets import") {
    for (const [key, value] of importPairs(input)) {
      app.secrets = app.secrets.filter((s) => s.name !== key);
      app.secrets.push({ name: key, digest: digest(value), status: "Staged" });
    }
    return done("Secrets have been staged, but not set on VMs. Deploy or update machines in this app for the secrets to take effect.\n");
  }
  if (sub === "secrets deploy") {
    if (app.machines.length === 0)
      return done(
        "",
        1,
        "Error: no machines available to deploy\n'fly secrets deploy' will only work if the app has been deployed and there are machines available\nTry 'fly deploy' first\n",
      );
    const current = [...app.releases].sort((x, y) => y.Version - x.Version)[0]!;
    deployImage(app, current.ImageRef, undefined);
    return done(`Updating existing machines in '${name}' with rolling strategy\n`);
  }
  if (a[0] === "deploy") {
    const env = Object.fromEntries(
      a.flatMap((x, i) => (a[i - 1] === "-e" ? [[x.slice(0, x.indexOf("=")), x.slice(x.indexOf("=") + 1)]] : [])),
    ) as Record<string, string>;
    const image = flag(a, "--image") ?? `registry.fly.io/${name}:${flag(a, "--image-label") ?? "deployment-01J0000000"}`;
    const release = deployImage(app, image, env.RELEASE_ID);
    const emit = cmd.env?.FLY_EMIT_RELEASE_JSON
      ? `${JSON.stringify({ id: release.ID, version: release.Version, image_ref: image })}\n`
      : "";
    const visit = app.public ? `\nVisit your newly deployed app at https://${name}.fly.dev/\n` : "";
    return done(`Updating existing machines in '${name}' with rolling strategy\n${emit}${visit}`);
  }
  return done("", 1, `Error: unknown command "${a[0]}" for "flyctl"\n`);
}

/** flyctl sub-commands that only read; everything else is a write a dry run must not run. */
export function isFlyRead(argv: string[]): boolean {
  if (argv[0] !== "flyctl" && argv[0] !== "fly") return true;
  const a = argv.slice(1);
  return (
    ["releases", "status", "version", "logs"].includes(a[0]!) ||
    ["secrets list", "ips list", "auth whoami", "apps list"].includes(a.slice(0, 2).join(" "))
  );
}
