import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { appsEnvPath, loadFlyAppsEnv } from "../../src/fly/apps-env.ts";

const roots: string[] = [];
afterAll(() =>
  roots.splice(0).forEach((r) => {
    rmSync(r, { recursive: true, force: true });
  }),
);

function repoWith(file: string, text: string) {
  const root = mkdtempSync(join(tmpdir(), "apps-env-"));
  roots.push(root);
  mkdirSync(join(root, "infra", "fly"), { recursive: true });
  writeFileSync(join(root, "infra", "fly", file), text);
  return root;
}
const full =
  "FLY_REGION=iad\nFLY_APP_CLIENT=web-app\nFLY_APP_BACKEND=api-app\nPUBLIC_URL=https://web-app.fly.dev/\nNEON_PROJECT_ID=p-1\nNEON_BRANCH_ID=br-1\n";

describe("apps.env of an environment", () => {
  it("production reads apps.env, others <env>.apps.env", () => {
    expect(appsEnvPath("/r", "production")).toBe("/r/infra/fly/apps.env");
    expect(appsEnvPath("/r", "staging")).toBe("/r/infra/fly/staging.apps.env");
  });
  it("parses names, URL, Neon ids and defaults", () => {
    const env = loadFlyAppsEnv(repoWith("apps.env", full), "production", ["backend", "client"], ["backend"]);
    expect(env.appNames).toEqual({ backend: "api-app", client: "web-app" });
    expect(env.publicUrl).toBe("https://web-app.fly.dev");
    expect(env.mustNotAnswer).toEqual(["https://api-app.fly.dev/"]);
    expect(env.neon).toEqual({ projectId: "p-1", branchId: "br-1", apiHost: "https://console.neon.tech/api/v2" });
    expect([env.strategy, env.waitTimeout]).toEqual(["rolling", "5m0s"]);
  });
  it("a missing file names the copy to make", () => {
    expect(() => loadFlyAppsEnv(repoWith("x", ""), "staging", ["client"], [])).toThrow("infra/fly/staging.apps.env does not exist");
  });
  it("a missing key and a bad app name are named", () => {
    expect(() =>
      loadFlyAppsEnv(repoWith("apps.env", full.replace("FLY_APP_BACKEND=api-app\n", "")), "production", ["backend", "client"], ["backend"]),
    ).toThrow("infra/fly/apps.env: FLY_APP_BACKEND is not set");
    expect(() =>
      loadFlyAppsEnv(repoWith("apps.env", full.replace("api-app", "API_App")), "production", ["backend", "client"], ["backend"]),
    ).toThrow('FLY_APP_BACKEND="API_App": Fly app names are lowercase');
  });
  it("FLY_WAIT_TIMEOUT is read as flyctl reads --wait-timeout: a Go duration or whole seconds", () => {
    const load = (value: string) =>
      loadFlyAppsEnv(repoWith("apps.env", `${full}FLY_WAIT_TIMEOUT=${value}\n`), "production", ["backend", "client"], ["backend"])
        .waitTimeout;
    expect(load("2m30s")).toBe("2m30s");
    expect(load("1.5h")).toBe("1.5h");
    expect(load("600")).toBe("600");
    expect(() => load("5 minutes")).toThrow(
      'infra/fly/apps.env: FLY_WAIT_TIMEOUT="5 minutes" is not a duration flyctl reads (fly deploy --wait-timeout)',
    );
    expect(() => load("1.5")).toThrow("is not a duration flyctl reads");
  });
});
