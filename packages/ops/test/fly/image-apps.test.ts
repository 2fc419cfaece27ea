import { describe, expect, it } from "vitest";
import repoConfig from "../../../../ops.config.ts";
import { parseOpsConfig } from "../../src/config/load.ts";
import type { FlyAppsEnv } from "../../src/fly/apps-env.ts";
import type { Flyctl } from "../../src/fly/flyctl.ts";
import { FlyProvider } from "../../src/fly/provider.ts";
import type { Cmd } from "../../src/runner/types.ts";

const config = parseOpsConfig(repoConfig);
const IMAGE = config.apps.authentik!.image!;
const appsEnv: FlyAppsEnv = {
  file: "infra/fly/staging.apps.env",
  org: undefined,
  region: "iad",
  appNames: { backend: "s-backend", authentik: "s-authentik", client: "s-client" },
  publicUrl: "https://s-client.fly.dev",
  appUrls: { authentik: "https://s-authentik.fly.dev", client: "https://s-client.fly.dev" },
  mustNotAnswer: [],
  neon: undefined,
  strategy: "rolling",
  waitTimeout: "5m0s",
};

/** A flyctl that prints what a successful deploy prints (FLY_EMIT_RELEASE_JSON line among others) and records each argv. */
function fakeFlyctl(emitted: { version: number; image_ref: string }) {
  const ran: Cmd[] = [];
  const flyctl: Flyctl = {
    run: async (cmd) => {
      ran.push(cmd);
      const stdout = `Watch your deployment\n${JSON.stringify({ id: "rel_1", ...emitted })}\nVisit your newly deployed app\n`;
      return { ok: true, exitCode: 0, signal: null, stdout, stderr: "", durationMs: 1, command: "" };
    },
    json: async () => [] as never,
  };
  return { flyctl, ran };
}

describe("an image-only app on fly", () => {
  it("deploys its pinned image with its own fly.toml: no remote build, no image label, RELEASE_ID as -e", () => {
    const provider = new FlyProvider(config, appsEnv, fakeFlyctl({ version: 2, image_ref: IMAGE }).flyctl);
    const cmd = provider.deployCmd("authentik", "20261207-090000-abcd");
    expect(cmd.args).toEqual([
      "deploy",
      "-c",
      "infra/fly/authentik.fly.toml",
      "-a",
      "s-authentik",
      "--image",
      IMAGE,
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "-e",
      "RELEASE_ID=20261207-090000-abcd",
      "--yes",
    ]);
    expect(cmd.env).toEqual({ FLY_EMIT_RELEASE_JSON: "1" });
    // A built app still builds remotely with the run id as its image label.
    expect(provider.deployCmd("client", "20261207-090000-abcd").args).toEqual(
      expect.arrayContaining(["--remote-only", "--image-label", "20261207-090000-abcd"]),
    );
  });

  it("is recorded by Fly's version (its image carries no run id), the marker rollback planning uses", async () => {
    const { flyctl } = fakeFlyctl({ version: 8, image_ref: IMAGE });
    const provider = new FlyProvider(config, appsEnv, flyctl);
    const before = {
      ID: "r7",
      Version: 7,
      Status: "complete",
      CreatedAt: "2026-12-01T00:00:00Z",
      ImageRef: "ghcr.io/goauthentik/server:2025.8.4",
    };
    const r = await provider.runDeploy(
      "authentik",
      "20261207-090000-abcd",
      provider.deployCmd("authentik", "20261207-090000-abcd"),
      before,
    );
    expect(r).toEqual({
      app: "authentik",
      flyApp: "s-authentik",
      previous: { version: 7, imageRef: "ghcr.io/goauthentik/server:2025.8.4", release: null },
      release: "v8",
      version: 8,
      imageRef: IMAGE,
    });
  });

  it("rolls back by image: the earlier release's ref, no release command, RELEASE_ID its version", () => {
    const provider = new FlyProvider(config, appsEnv, fakeFlyctl({ version: 9, image_ref: IMAGE }).flyctl);
    const target = {
      ID: "r7",
      Version: 7,
      Status: "complete",
      CreatedAt: "2026-12-01T00:00:00Z",
      ImageRef: "ghcr.io/goauthentik/server:2025.8.4",
    };
    expect(provider.rollbackCmd("authentik", target).args).toEqual(
      expect.arrayContaining(["--image", "ghcr.io/goauthentik/server:2025.8.4", "--skip-release-command", "-e", "RELEASE_ID=v7"]),
    );
    expect(provider.rollbackCmd("authentik", target).args).not.toContain("--remote-only");
  });
});
