import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appsOfEnvironment } from "../../src/config/apps-of-environment.ts";
import { parseOpsConfig } from "../../src/config/load.ts";
import { readOpsEnv } from "../../src/env.ts";
import { loadFlyAppsEnvFor } from "../../src/fly/apps-env.ts";
import { localAppPort } from "../../src/local/ports.ts";
import { portContractOf } from "../../src/preflight/port-contract.ts";

/** Three apps, none named like this repository's: every per-app name and key must come from here. */
const threeApps = parseOpsConfig({
  project: "three",
  deployOrder: ["store", "web-api", "front"],
  publicApp: "front",
  apps: {
    store: {
      dir: "apps/store",
      artifacts: ["bin"],
      command: ["bin/store"],
      portEnv: "STORE_PORT",
      hostEnv: "STORE_HOST",
      localPort: 7001,
      health: { kind: "grpc" },
      fly: { config: "infra/fly/store.fly.toml", public: false, port: 7001 },
    },
    "web-api": {
      dir: "apps/web-api",
      artifacts: ["dist"],
      command: ["node", "dist/main.js"],
      portEnv: "PORT",
      localPort: 7002,
      health: { kind: "http", path: "/up" },
      fly: { config: "infra/fly/web-api.fly.toml", public: true, port: 8080 },
    },
    front: {
      dir: "apps/front",
      artifacts: ["build"],
      command: ["node", "build/server.mjs"],
      portEnv: "PORT",
      localPort: 7003,
      links: { API_ADDR: "web-api" },
      health: { kind: "http" },
      fly: { config: "infra/fly/front.fly.toml", public: true },
    },
  },
  smoke: { checks: [{ name: "home", path: "/" }] },
});

const roots: string[] = [];
afterAll(() =>
  roots.splice(0).forEach((r) => {
    rmSync(r, { recursive: true, force: true });
  }),
);
function repoWith(appsEnv: string): string {
  const root = mkdtempSync(join(tmpdir(), "three-apps-"));
  roots.push(root);
  mkdirSync(join(root, "infra", "fly"), { recursive: true });
  writeFileSync(join(root, "infra", "fly", "staging.apps.env"), appsEnv);
  return root;
}
const appsEnv =
  "FLY_REGION=ams\nFLY_APP_FRONT=t-front\nFLY_APP_WEB_API=t-web-api\nFLY_APP_STORE=t-store\nPUBLIC_URL=https://t-front.fly.dev\n";

describe("apps are data: a three-app config", () => {
  it("apps.env keys are FLY_APP_<APP> of each declared app, in deploy order, and only internal apps must not answer", () => {
    const env = loadFlyAppsEnvFor(threeApps, repoWith(appsEnv), "staging");
    expect(Object.entries(env.appNames)).toEqual([
      ["store", "t-store"],
      ["web-api", "t-web-api"],
      ["front", "t-front"],
    ]);
    expect(env.mustNotAnswer).toEqual(["https://t-store.fly.dev/"]);
    expect(env.publicUrl).toBe("https://t-front.fly.dev");
  });

  it("a declared app without its key is named with the key it needs", () => {
    expect(() => loadFlyAppsEnvFor(threeApps, repoWith(appsEnv.replace("FLY_APP_WEB_API=t-web-api\n", "")), "staging")).toThrow(
      "infra/fly/staging.apps.env: FLY_APP_WEB_API is not set",
    );
  });

  it("local ports come from localPort, overridden by OPS_LOCAL_<APP>_PORT", () => {
    const env = readOpsEnv({ OPS_REPO_ROOT: "/tmp", OPS_LOCAL_WEB_API_PORT: "9100" });
    expect(threeApps.deployOrder.map((app) => localAppPort(threeApps, env, app))).toEqual([
      { port: 7001, envVar: "OPS_LOCAL_STORE_PORT", source: "config" },
      { port: 9100, envVar: "OPS_LOCAL_WEB_API_PORT", source: "environment" },
      { port: 7003, envVar: "OPS_LOCAL_FRONT_PORT", source: "config" },
    ]);
  });

  it("preflight's port contract is each app's declared port, variables and exposure", () => {
    expect(threeApps.deployOrder.map((app) => portContractOf(app, threeApps.apps[app]!))).toEqual([
      {
        app: "store",
        exposure: "internal",
        port: 7001,
        portEnv: "STORE_PORT",
        hostEnv: "STORE_HOST",
        healthPath: undefined,
        stack: undefined,
      },
      { app: "web-api", exposure: "public", port: 8080, portEnv: "PORT", hostEnv: undefined, healthPath: "/up", stack: undefined },
      { app: "front", exposure: "public", port: 7003, portEnv: "PORT", hostEnv: undefined, healthPath: "/healthz", stack: undefined },
    ]);
  });
});

/** The three apps plus an optional image-only one ("idp") with its own smoke check and generated key. */
const withIdp = (over: Record<string, unknown> = {}) => ({
  project: "four",
  deployOrder: ["store", "idp", "web-api", "front"],
  publicApp: "front",
  apps: {
    store: { dir: "apps/store", artifacts: ["bin"], command: ["bin/store"], portEnv: "P", localPort: 7001, health: { kind: "grpc" } },
    "web-api": {
      dir: "apps/web-api",
      artifacts: ["dist"],
      command: ["node", "dist/main.js"],
      portEnv: "P",
      localPort: 7002,
      health: { kind: "http" },
    },
    front: { dir: "apps/front", artifacts: ["build"], command: ["node", "s.mjs"], portEnv: "P", localPort: 7003, health: { kind: "http" } },
    idp: {
      image: "ghcr.io/example/idp:1.2.3",
      optional: true,
      secrets: ["IDP_KEY", "IDP_DB_NAME"],
      health: { kind: "http", path: "/live" },
      fly: { config: "infra/fly/idp.fly.toml", public: true, port: 9000 },
    },
  },
  secrets: { generated: ["IDP_KEY"], rotatable: ["IDP_KEY"], bytes: { IDP_KEY: 48 }, plain: ["IDP_DB_NAME"] },
  smoke: {
    checks: [
      { name: "home", path: "/" },
      { name: "idp ready", app: "idp", path: "/ready", expectStatus: [200, 204] },
    ],
  },
  turbo: { requiredEnv: { "idp#deploy": ["OPS_TARGET"], "front#deploy": ["OPS_TARGET"] }, sideEffectTasks: ["idp#deploy", "front#deploy"] },
  ...over,
});

describe("optional apps: off unless the environment's apps.env sets FLY_APP_<APP>", () => {
  const config = parseOpsConfig(withIdp());

  it("on when staging.apps.env sets FLY_APP_IDP: the config is unchanged", async () => {
    const on = await appsOfEnvironment(config, repoWith(`${appsEnv}FLY_APP_IDP=t-idp\n`), "staging");
    expect(on.off).toEqual(new Map());
    expect(on.config).toBe(config);
  });

  it.each([
    ["the key is missing", appsEnv],
    ["the key is empty", `${appsEnv}FLY_APP_IDP=\n`],
  ])("off when %s: gone from apps, order, smoke checks, secrets lists and its turbo tasks, with one line saying why", async (_, text) => {
    const off = await appsOfEnvironment(config, repoWith(text), "staging");
    expect([...off.off]).toEqual([
      ["idp", "idp: off in staging (FLY_APP_IDP is not set in infra/fly/staging.apps.env); nothing of it is synced, deployed or checked"],
    ]);
    expect(off.config.deployOrder).toEqual(["store", "web-api", "front"]);
    expect(Object.keys(off.config.apps)).toEqual(["store", "web-api", "front"]);
    expect(off.config.smoke.checks.map((c) => c.name)).toEqual(["home"]);
    expect(off.config.secrets).toEqual({ generated: [], rotatable: [], bytes: {}, plain: [] });
    expect(off.config.turbo.requiredEnv).toEqual({ "front#deploy": ["OPS_TARGET"] });
    expect(off.config.turbo.sideEffectTasks).toEqual(["front#deploy"]);
  });

  it("off when the environment has no apps.env at all (a fresh clone on the local target)", async () => {
    const off = await appsOfEnvironment(config, mkdtempSync(join(tmpdir(), "no-apps-env-")), "production");
    expect([...off.off.keys()]).toEqual(["idp"]);
  });
});

describe("each app is built or image-only, and optional apps stay optional", () => {
  const problems = (over: Record<string, unknown>) => {
    try {
      parseOpsConfig(over);
      return [];
    } catch (err) {
      return (err as Error).message
        .split("\n")
        .slice(1)
        .map((l) => l.trim());
    }
  };
  const base = withIdp();
  const apps = base.apps as Record<string, Record<string, unknown>>;

  it("a near-miss passes: an image-only app without dir, build fields or ports", () => {
    expect(problems(base)).toEqual([]);
  });

  it.each([
    [
      "an image-only app with a build",
      { apps: { ...apps, idp: { ...apps.idp, artifacts: ["x"], command: ["x"] } } },
      [
        "apps.idp.artifacts: an image-only app (image is set) has no build; remove artifacts or remove image",
        "apps.idp.command: an image-only app (image is set) has no build; remove command or remove image",
      ],
    ],
    [
      "an image-only app without fly",
      { apps: { ...apps, idp: { ...apps.idp, fly: undefined } } },
      ["apps.idp.fly: an image-only app runs only on fly; give it fly: { config, public }"],
    ],
    [
      "a built app without its command",
      { apps: { ...apps, store: { ...apps.store, command: undefined } } },
      [
        'apps.store.command: required key "command" is missing (a built app needs it; an app that runs a prebuilt image sets image instead)',
      ],
    ],
    [
      "an optional public app",
      { apps: { ...apps, front: { ...apps.front, optional: true } } },
      ['publicApp: "front" is optional; the public app must be deployed in every environment'],
    ],
    [
      "a link from an app that is always on to an optional one",
      { apps: { ...apps, "web-api": { ...apps["web-api"], links: { IDP_ADDR: "idp" } } } },
      [
        'apps.web-api.links.IDP_ADDR: "idp" is optional, so it may be off where "web-api" is deployed; make "web-api" optional too or drop the link',
      ],
    ],
    [
      "a smoke check proving releases of an image-only app",
      { smoke: { checks: [{ name: "idp", app: "idp", path: "/", expectReleases: true }] } },
      [
        'smoke.checks[0].expectReleases: "idp" is image-only and cannot report our release ids; drop expectReleases (the check still proves it answers)',
      ],
    ],
    [
      "a plain key that is generated",
      { secrets: { generated: ["IDP_KEY"], plain: ["IDP_KEY"] } },
      ['secrets.plain[0]: "IDP_KEY" is generated or rotatable, so it is a credential; a plain value is a setting'],
    ],
  ])("%s is refused", (_, over, expected) => {
    expect(problems({ ...base, ...over })).toEqual(expected);
  });
});
