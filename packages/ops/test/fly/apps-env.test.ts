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
    expect(env.neon).toEqual({
      projectId: "p-1",
      branchId: "br-1",
      apiHost: "https://console.neon.tech/api/v2",
      restoreWindow: {
        seconds: 86_400,
        from: "the default, Neon's own on paid plans; NEON_HISTORY_RETENTION_SECONDS in infra/fly/apps.env sets the project's",
      },
    });
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

  it.each([
    ["21600", 21_600],
    ["86400", 86_400],
    [" 2592000 ", 2_592_000],
  ])("NEON_HISTORY_RETENTION_SECONDS=%s is the restore window, and the plan says it came from there", (text, seconds) => {
    const env = loadFlyAppsEnv(repoWith("apps.env", `${full}NEON_HISTORY_RETENTION_SECONDS=${text}\n`), "production", ["client"], []);
    expect(env.neon?.restoreWindow).toEqual({ seconds, from: `NEON_HISTORY_RETENTION_SECONDS=${seconds} in infra/fly/apps.env` });
  });
  it("an empty NEON_HISTORY_RETENTION_SECONDS takes the default", () => {
    const env = loadFlyAppsEnv(repoWith("apps.env", `${full}NEON_HISTORY_RETENTION_SECONDS=\n`), "production", ["client"], []);
    expect(env.neon?.restoreWindow.seconds).toBe(86_400);
  });
  it.each(["6h", "1d", "0", "-60", "2592001", "86400.5"])(
    "NEON_HISTORY_RETENTION_SECONDS=%s is refused, naming the value and the fix",
    (text) => {
      expect(() =>
        loadFlyAppsEnv(repoWith("apps.env", `${full}NEON_HISTORY_RETENTION_SECONDS=${text}\n`), "production", ["client"], []),
      ).toThrow(`infra/fly/apps.env: NEON_HISTORY_RETENTION_SECONDS="${text}" is not a number of seconds from 1 to 2592000 (30 days)`);
    },
  );
});
