import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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
