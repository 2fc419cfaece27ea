// The flyctl stand-in's `deploy` (flyctl internal/command/deploy/, the Fly rollback guide,
// non-interactive runs): first deploys per the --ha rule, IPs only with services, the FLY_EMIT_RELEASE_JSON line, the health and release_command knobs, rollback
// by --image (C-25), C-22, flag validation, and SIGTERM → 127.
import { rmSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runFly, type RunFlyOptions } from "../fixtures/flyctl/run.ts";
import { createFakeFlyState, readFakeFlyState, seedReleases, updateFakeFlyState } from "../fixtures/flyctl/state.ts";

// Each case runs the real executable several times (about 0.3–1 s each under load).
vi.setConfig({ testTimeout: 60_000 });

const TOKEN = "FlyV1 fm2_stand_in_deploy_token";
let repo: string;
let state: string;

const fly = (args: string[], opts: RunFlyOptions = {}) =>
  runFly(args, { statePath: state, cwd: repo, ...opts, env: { FLY_API_TOKEN: TOKEN, ...opts.env } });
const app = (name: string) => readFakeFlyState(state).apps[name]!;
const emitted = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { id: string; version: number; image_ref: string });

/** Like infra/fly/backend.fly.toml: no services, a top-level check. */
const BACKEND_TOML = `app = "deploy-ops-backend"
primary_region = "iad"
[build]
  dockerfile = "../../apps/backend/Dockerfile"
[deploy]
  strategy = "rolling"
[env]
  GRPC_PORT = "50051"
[checks.grpc_port]
  type = "tcp"
  port = 50051
  interval = "15s"
  timeout = "2s"
`;

/** Like infra/fly/client.fly.toml: an [http_service] with a check. */
const CLIENT_TOML = `app = "deploy-ops-client"
primary_region = "iad"
[build]
  dockerfile = "../../apps/client/Dockerfile"
[http_service]
  internal_port = 3000
  force_https = true
  [[http_service.checks]]
    method = "GET"
    path = "/healthz"
    interval = "15s"
    timeout = "5s"
`;

afterEach(() => rmSync(repo, { recursive: true, force: true }));

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), "fake-fly-deploy-"));
  state = join(repo, "state.json");
  for (const a of ["backend", "client"]) {
    mkdirSync(join(repo, "apps", a), { recursive: true });
    writeFileSync(join(repo, "apps", a, "Dockerfile"), "FROM scratch\n");
  }
  mkdirSync(join(repo, "infra", "fly"), { recursive: true });
  writeFileSync(join(repo, "infra", "fly", "backend.fly.toml"), BACKEND_TOML);
  writeFileSync(join(repo, "infra", "fly", "client.fly.toml"), CLIENT_TOML);
  createFakeFlyState(state, { validTokens: [TOKEN], apps: { be: {}, web: {} } });
});

const deployBackend = (extra: string[] = [], opts: RunFlyOptions = {}) =>
  fly(["deploy", "-c", "infra/fly/backend.fly.toml", "-a", "be", "--remote-only", ...extra], opts);
const deployClient = (extra: string[] = [], opts: RunFlyOptions = {}) =>
  fly(["deploy", "-c", "infra/fly/client.fly.toml", "-a", "web", "--remote-only", ...extra], opts);

describe("first deploys (--ha, IP allocation only with services: internal/command/deploy/deploy_first.go)", () => {
  it("an internal app: 1 machine + 1 standby, no IPs, the release JSON line, no final message", async () => {
    const res = await deployBackend(["--image-label", "rel-1", "-e", "RELEASE_ID=rel-1", "--yes"], { env: { FLY_EMIT_RELEASE_JSON: "1" } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("Validating infra/fly/backend.fly.toml\n✓ Configuration is valid\n");
    expect(res.stdout).toContain("\nWatch your deployment at https://fly.io/apps/be/monitoring\n\n");
    expect(res.stdout).toContain('This deployment will:\n * create 1 "app" machine and 1 standby machine for it\n');
    expect(res.stderr).toContain("image: registry.fly.io/be:rel-1\n");
    const a = app("be");
    expect(a.deployed).toBe(true);
    expect(a.ips).toEqual([]);
    expect(a.env).toEqual({ RELEASE_ID: "rel-1" });
    expect(a.machines).toHaveLength(2);
    expect(a.machines.map((m) => m.state).sort()).toEqual(["started", "stopped"]);
    const standby = a.machines.find((m) => m.state === "stopped")!;
    expect(standby.config.standbys).toEqual([a.machines.find((m) => m.state === "started")!.id]);
    for (const m of a.machines) {
      expect(m.config.image).toBe("registry.fly.io/be:rel-1");
      expect(m.config.env).toMatchObject({ GRPC_PORT: "50051", RELEASE_ID: "rel-1", PRIMARY_REGION: "iad" });
    }
    expect(a.releases.map((r) => [r.Version, r.Status, r.ImageRef])).toEqual([[1, "complete", "registry.fly.io/be:rel-1"]]);
    expect(emitted(res.stdout)).toEqual([{ id: a.releases[0]!.ID, version: 1, image_ref: "registry.fly.io/be:rel-1" }]);
    // Nothing follows the JSON line for an app without services (no final message without a URL).
    expect(res.stdout.endsWith(`${JSON.stringify(emitted(res.stdout)[0])}\n`)).toBe(true);
    expect(JSON.parse((await fly(["ips", "list", "--json", "-a", "be"])).stdout)).toEqual([]);
  });

  it("--no-public-ips: the 'no public or private IP' final message", async () => {
    const res = await deployBackend(["--no-public-ips"]);
    expect(res.code).toBe(0);
    expect(res.stdout.endsWith("\nYour app is deployed but does not have a public or private IP address\n")).toBe(true);
  });

  it("an app with an HTTP service: 2 machines, shared v4 + v6, the Visit line after the JSON line", async () => {
    const res = await deployClient(["--image-label", "c1"], { env: { FLY_EMIT_RELEASE_JSON: "0" } });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/Provisioning ips for web\n {2}Dedicated ipv6: \S+\n {2}Shared ipv4: \S+\n/);
    expect(res.stdout).toContain('This deployment will:\n * create 2 "app" machines\n');
    const lines = res.stdout.split("\n");
    const jsonAt = lines.findIndex((l) => l.startsWith("{"));
    expect(jsonAt).toBeGreaterThan(0); // any non-empty value turns it on, even "0"
    expect(lines.slice(jsonAt + 1).join("\n")).toBe("\nVisit your newly deployed app at https://web.fly.dev/\n\n");
    const a = app("web");
    expect(a.machines.map((m) => m.state)).toEqual(["started", "started"]);
    expect(a.ips.map((ip) => ip.Type).sort()).toEqual(["shared_v4", "v6"]);
    expect(res.stderr).toContain("Checking DNS configuration for web.fly.dev\n✓ DNS configuration verified\n");
  });

  it("--no-public-ips with services allocates nothing; the C-22 knob allocates anyway", async () => {
    expect((await deployClient(["--no-public-ips"])).code).toBe(0);
    expect(app("web").ips).toEqual([]);
    updateFakeFlyState(state, (s) => {
      s.knobs.allocatePublicIpsFor = ["be"];
    });
    expect((await deployBackend(["--no-public-ips"])).code).toBe(0);
    const ips = JSON.parse((await fly(["ips", "list", "--json", "-a", "be"])).stdout) as { Type: string }[];
    expect(ips.map((ip) => ip.Type).sort()).toEqual(["shared_v4", "v6"]);
  });

  it("--ha=false creates a single machine; without --image-label the tag is deployment-<ULID>", async () => {
    const res = await deployClient(["--ha=false"], { env: { FLY_EMIT_RELEASE_JSON: "1" } });
    expect(res.code).toBe(0);
    expect(app("web").machines).toHaveLength(1);
    expect(emitted(res.stdout)[0]!.image_ref).toMatch(/^registry\.fly\.io\/web:deployment-[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});

describe("process groups ([processes]; fly deploy creates machines per group with the --ha rule)", () => {
  /** Like infra/fly/authentik.fly.toml: one prebuilt image, a served group and a worker group with its own check. */
  const TWO_GROUPS = `app = "idp"
[processes]
  server = "server"
  worker = "worker"
[http_service]
  internal_port = 9000
  processes = ["server"]
  [[http_service.checks]]
    path = "/-/health/live/"
    interval = "15s"
    timeout = "5s"
[checks.worker_live]
  type = "http"
  port = 9000
  path = "/-/health/live/"
  interval = "30s"
  timeout = "5s"
  processes = ["worker"]
`;
  const IMAGE = "ghcr.io/goauthentik/server:2025.10.1";

  it("deploy --image creates 2 machines for the served group and 1 + a standby for the worker, each with its group's checks", async () => {
    writeFileSync(join(repo, "infra", "fly", "idp.fly.toml"), TWO_GROUPS);
    updateFakeFlyState(state, (s) => {
      s.apps.idp = structuredClone(s.apps.web!);
      s.knobs.knownImages = [IMAGE];
    });
    const res = await fly(["deploy", "-c", "infra/fly/idp.fly.toml", "-a", "idp", "--image", IMAGE, "--yes"], {
      env: { FLY_EMIT_RELEASE_JSON: "1" },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain(`Searching for image '${IMAGE}' remotely...`);
    expect(res.stdout).toContain('* create 2 "server" machines');
    expect(res.stdout).toContain('* create 1 "worker" machine and 1 standby machine for it');
    const machines = app("idp").machines;
    const byGroup = (g: string) => machines.filter((m) => m.config?.metadata?.fly_process_group === g);
    expect(byGroup("server")).toHaveLength(2);
    expect(byGroup("worker")).toHaveLength(2);
    expect(machines.every((m) => m.config?.image === IMAGE)).toBe(true);
    expect(byGroup("server")[0]!.checks?.map((c) => c.name)).toEqual(["servicecheck-00-http-9000"]);
    expect(
      byGroup("worker")
        .find((m) => m.checks)
        ?.checks?.map((c) => c.name),
    ).toEqual(["worker_live"]);
    expect(emitted(res.stdout)).toEqual([{ id: expect.any(String), version: 1, image_ref: IMAGE }]);
  });

  it("with several groups, a service that names no processes is a stand-in limit (exit 2), not a guess", async () => {
    writeFileSync(join(repo, "infra", "fly", "idp.fly.toml"), TWO_GROUPS.replace('  processes = ["server"]\n', ""));
    updateFakeFlyState(state, (s) => {
      s.apps.idp = structuredClone(s.apps.web!);
      s.knobs.knownImages = [IMAGE];
    });
    const res = await fly(["deploy", "-c", "infra/fly/idp.fly.toml", "-a", "idp", "--image", IMAGE]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("[http_service] has no processes list");
  });
});

describe("later deploys, failures and knobs (health waits, release_command)", () => {
  it("updates existing machines with the rolling strategy and makes release v2", async () => {
    await deployClient(["--image-label", "c1"]);
    const res = await deployClient(["--image-label", "c2", "--strategy", "rolling", "--wait-timeout", "5m0s"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("Updating existing machines in 'web' with rolling strategy\n");
    expect(res.stdout).toMatch(/> \[1\/2\] Updating [0-9a-f]{14} \[app\]\n/);
    expect(res.stdout).toMatch(/> \[1\/2\] Waiting for [0-9a-f]{14} \[app\] to become healthy: 0\/1\n/);
    expect(res.stdout).toMatch(/✔ \[2\/2\] Machine [0-9a-f]{14} \[app\] update succeeded\n/);
    expect(app("web").machines.map((m) => m.config.image)).toEqual(["registry.fly.io/web:c2", "registry.fly.io/web:c2"]);
    expect(app("web").releases.map((r) => [r.Version, r.Status])).toEqual([
      [1, "complete"],
      [2, "complete"],
    ]);
  });

  it("health knob: waits, exits 1 with the timeout error; the updated machine keeps the new image; release failed", async () => {
    await deployClient(["--image-label", "c1"]);
    updateFakeFlyState(state, (s) => {
      s.knobs.failHealthFor = ["web"];
    });
    const res = await deployClient(["--image-label", "c2"], { env: { FLY_EMIT_RELEASE_JSON: "1" } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(
      /Error: timeout reached waiting for health checks to pass for machine ([0-9a-f]{14}): failed to get VM \1: Get "https:\/\/api\.machines\.dev\/v1\/apps\/web\/machines\/\1": context deadline exceeded\n$/,
    );
    expect(res.stdout).toMatch(/✖ \[1\/2\] Machine [0-9a-f]{14} \[app\] update failed: timeout reached/);
    expect(res.stdout).toMatch(/✖ \[2\/2\] Machine [0-9a-f]{14} \[app\] update canceled\n/);
    expect(emitted(res.stdout)).toEqual([]);
    expect(res.stdout).not.toContain("Visit your newly deployed app");
    const failedId = /machine ([0-9a-f]{14}):/.exec(res.stderr)![1];
    const a = app("web");
    expect(a.machines.find((m) => m.id === failedId)!.config.image).toBe("registry.fly.io/web:c2");
    expect(a.machines.find((m) => m.id !== failedId)!.config.image).toBe("registry.fly.io/web:c1");
    expect(a.machines.find((m) => m.id === failedId)!.checks).toEqual([expect.objectContaining({ status: "critical" })]);
    expect(a.releases.map((r) => [r.Version, r.Status, r.ImageRef])).toEqual([
      [1, "complete", "registry.fly.io/web:c1"],
      [2, "failed", "registry.fly.io/web:c2"],
    ]);
    // --detach skips the health waits (flyctl docs: `fly deploy`); immediate does not wait either.
    expect((await deployClient(["--image-label", "c3", "--detach"])).code).toBe(0);
    expect((await deployClient(["--image-label", "c4", "--strategy", "immediate"])).code).toBe(0);
  });

  it("health knob on a first deploy: the created machine stays, with the new image", async () => {
    updateFakeFlyState(state, (s) => {
      s.knobs.failHealthFor = ["be"];
    });
    const res = await deployBackend(["--image-label", "b1"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^Error: timeout reached waiting for health checks to pass for machine [0-9a-f]{14}: /m);
    expect(app("be").machines.map((m) => m.config.image)).toEqual(["registry.fly.io/be:b1"]);
    expect(app("be").releases[0]!.Status).toBe("failed");
  });

  it("release_command knob: exit 1 with flyctl's text, no machine touched, no image change", async () => {
    writeFileSync(join(repo, "infra", "fly", "client.fly.toml"), `${CLIENT_TOML}[deploy]\n  release_command = "bin/migrate"\n`);
    const ok = await deployClient(["--image-label", "c1"]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain("Running web release_command: bin/migrate\n");
    updateFakeFlyState(state, (s) => {
      s.knobs.failReleaseCommandFor = ["web"];
    });
    const res = await deployClient(["--image-label", "c2"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/Error release_command failed running on machine ([0-9a-f]{14}) with exit code 1\.\n/);
    expect(res.stderr).toMatch(
      /Error: release command failed - aborting deployment\. machine [0-9a-f]{14} exited with non-zero status of 1\n$/,
    );
    expect(res.stdout).not.toContain("Updating existing machines");
    expect(app("web").machines.map((m) => m.config.image)).toEqual(["registry.fly.io/web:c1", "registry.fly.io/web:c1"]);
    expect(app("web").releases.map((r) => r.Status)).toEqual(["complete", "failed"]);
    // --skip-release-command skips it (internal/command/deploy/machines_releasecommand.go).
    const skipped = await deployClient(["--image-label", "c3", "--skip-release-command"]);
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).not.toContain("release_command");
  });

  it("staged secrets are applied by the next deploy", async () => {
    await deployBackend();
    await fly(["secrets", "import", "--stage", "-a", "be"], { input: "A=1\n" });
    expect(JSON.parse((await fly(["secrets", "list", "--json", "-a", "be"])).stdout)[0].status).toBe("Staged");
    expect((await deployBackend()).code).toBe(0);
    expect(JSON.parse((await fly(["secrets", "list", "--json", "-a", "be"])).stdout)[0].status).toBe("Deployed");
  });

  it("SIGTERM while waiting for health: exit 127, release interrupted", async () => {
    await deployClient(["--image-label", "c1"]);
    updateFakeFlyState(state, (s) => {
      s.knobs.failHealthFor = ["web"];
      s.knobs.healthWaitMs = 60_000;
    });
    let sent = false;
    const res = await deployClient(["--image-label", "c2"], {
      onStdout: (_chunk, child) => {
        if (!sent && /to become healthy: 0\/1/.test(_chunk)) {
          sent = true;
          child.kill("SIGTERM");
        }
      },
    });
    expect(sent).toBe(true);
    expect(res.code).toBe(127);
    expect(res.stderr).not.toContain("Error:");
    expect(app("web").releases.at(-1)!.Status).toBe("interrupted");
    expect(readFakeFlyState(state).calls.at(-1)!.exitCode).toBe(127);
  }, 30_000);
});

describe("rollback: deploy --image (Fly rollback guide, C-25)", () => {
  it("deploys an old image as a NEW, higher release, skipping the release command", async () => {
    writeFileSync(join(repo, "infra", "fly", "client.fly.toml"), `${CLIENT_TOML}[deploy]\n  release_command = "bin/migrate"\n`);
    seedReleases(state, "web", [
      { version: 40, status: "complete", imageRef: "registry.fly.io/web:A" },
      { version: 41, status: "complete", imageRef: "registry.fly.io/web:B" },
      { version: 42, status: "complete", imageRef: "registry.fly.io/web:B" },
      { version: 43, status: "failed", imageRef: "registry.fly.io/web:C" },
    ]);
    const history = JSON.parse((await fly(["releases", "--json", "--image", "-a", "web"])).stdout) as {
      Version: number;
      Status: string;
      ImageRef: string;
    }[];
    expect(history.map((r) => [r.Version, r.Status, r.ImageRef])).toEqual([
      [43, "failed", "registry.fly.io/web:C"],
      [42, "complete", "registry.fly.io/web:B"],
      [41, "complete", "registry.fly.io/web:B"],
      [40, "complete", "registry.fly.io/web:A"],
    ]);
    const status = JSON.parse((await fly(["status", "--json", "-a", "web"])).stdout);
    expect(status.Version).toBe(42);
    expect(status.Machines[0].config.image).toBe("registry.fly.io/web:B");

    const res = await fly(
      ["deploy", "-c", "infra/fly/client.fly.toml", "-a", "web", "--image", "registry.fly.io/web:A", "--skip-release-command", "--yes"],
      { env: { FLY_EMIT_RELEASE_JSON: "1" } },
    );
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain("Searching for image 'registry.fly.io/web:A' remotely...\n");
    expect(res.stderr).not.toContain("release_command");
    expect(emitted(res.stdout)).toEqual([{ id: expect.any(String), version: 44, image_ref: "registry.fly.io/web:A" }]);
    const after = app("web");
    expect(after.releases.find((r) => r.Version === 44)).toMatchObject({ Status: "complete", ImageRef: "registry.fly.io/web:A" });
    expect(after.releases.find((r) => r.Version === 40)!.Status).toBe("complete");
    expect(after.machines.every((m) => m.config.image === "registry.fly.io/web:A" && m.config.metadata!.fly_release_version === "44")).toBe(
      true,
    );
  });

  it("an image the registry does not have fails like flyctl", async () => {
    const res = await deployClient(["--image", "registry.fly.io/web:never-built"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      'Error: failed to fetch an image or build from source: could not find image "registry.fly.io/web:never-built"\n',
    );
    expect(app("web").releases).toEqual([]);
  });
});

describe("deploy flags and config (config discovery, fly deploy flags)", () => {
  it("an unsupported --strategy fails validation after the build: no release", async () => {
    const res = await deployClient(["--strategy", "yolo"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "unsupported deployment strategy 'yolo'; Apps v2 supports the following strategies: canary, rolling, immediate, bluegreen",
    );
    expect(res.stderr.endsWith("Error: App configuration is not valid\n")).toBe(true);
    expect(app("web").releases).toEqual([]);
  });

  it("--wait-timeout takes a Go duration or seconds; anything else is flyctl's error", async () => {
    expect((await deployBackend(["--wait-timeout", "90"])).code).toBe(0);
    expect((await deployBackend(["--wait-timeout=1m30s"])).code).toBe(0);
    const bad = await deployBackend(["--wait-timeout", "soon"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      "Error: invalid duration value soon used for --wait-timeout flag: valid options are a number of seconds, number with time unit (i.e.: 5m, 180s) or 'none'\n",
    );
  });

  it("-e must be NAME=VALUE; the build needs a Dockerfile; the config path must exist", async () => {
    expect((await deployBackend(["-e", "JUSTNAME"])).stderr).toContain(
      "Error: failed parsing environment: 'JUSTNAME': must be in the format NAME=VALUE\n",
    );
    writeFileSync(
      join(repo, "infra", "fly", "backend.fly.toml"),
      BACKEND_TOML.replace('  dockerfile = "../../apps/backend/Dockerfile"\n', ""),
    );
    expect((await deployBackend()).stderr).toContain(
      "Error: failed to fetch an image or build from source: app does not have a Dockerfile or buildpacks configured. See https://fly.io/docs/reference/configuration/#the-build-section\n",
    );
    const missing = await fly(["deploy", "-c", "infra/fly/nope.toml", "-a", "be"]);
    expect(missing).toMatchObject({
      code: 1,
      stderr: "Error: config file not found at specified path: infra/fly/nope.toml (also tried: infra/fly/nope.toml/fly.toml)\n",
    });
  });

  it("an app that does not exist, and too many arguments", async () => {
    const res = await fly(["deploy", "-c", "infra/fly/backend.fly.toml", "-a", "ghost"]);
    expect(res.stderr).toContain(
      "Error: the app name ghost could not be found, did you create the app or misspell it in the fly.toml file or via -a?\n",
    );
    expect(await fly(["deploy", "a", "b"])).toMatchObject({ code: 1, stderr: "Error: accepts at most 1 arg(s), received 2\n" });
  });

  it("deploy WORKING_DIRECTORY changes into it first", async () => {
    writeFileSync(join(repo, "apps", "backend", "fly.toml"), 'app = "be"\n');
    const res = await fly(["deploy", "apps/backend", "--image-label", "wd"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`Validating ${join(repo, "apps", "backend", "fly.toml")}\n`);
  });
});
