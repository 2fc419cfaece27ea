import { describe, expect, it } from "vitest";
import {
  flyDeploy,
  flyIpsList,
  flyReleases,
  flySecretsDeploy,
  flySecretsImportStaged,
  flySecretsList,
  flyStatus,
  flyVersion,
  flyWhoami,
} from "../../src/commands/fly.ts";
import { Secret } from "../../src/secrets/secret.ts";

describe("flyctl argv builders", () => {
  it("read-only commands", () => {
    expect(flyVersion().args).toEqual(["version", "--json"]);
    expect(flyWhoami().args).toEqual(["auth", "whoami", "--json"]);
    expect(flyReleases("web").args).toEqual(["releases", "--json", "-a", "web"]);
    expect(flyStatus("web").args).toEqual(["status", "--json", "-a", "web"]);
    expect(flyIpsList("api").args).toEqual(["ips", "list", "--json", "-a", "api"]);
    expect(flySecretsList("api").args).toEqual(["secrets", "list", "--json", "-a", "api"]);
    expect(flySecretsDeploy("api").args).toEqual(["secrets", "deploy", "-a", "api"]);
    expect(flyVersion().file).toBe("flyctl");
  });

  it("secrets import stages and carries the payload on stdin only", () => {
    const payload = new Secret("A=tok_live_PLACEHOLDER123456\n");
    const cmd = flySecretsImportStaged("api", payload);
    expect(cmd.args).toEqual(["secrets", "import", "--stage", "-a", "api"]);
    expect(cmd.input).toBe(payload);
    expect(JSON.stringify(cmd)).not.toContain("PLACEHOLDER");
  });

  it("deploy of an internal app: remote build, label, strategy, wait, no public IPs, env sorted", () => {
    expect(
      flyDeploy({
        app: "api",
        config: "infra/fly/backend.fly.toml",
        strategy: "rolling",
        waitTimeout: "5m0s",
        imageLabel: "20261129-120000-abcd",
        noPublicIps: true,
        env: { RELEASE_ID: "20261129-120000-abcd", A: "1" },
      }).args,
    ).toEqual([
      "deploy",
      "-c",
      "infra/fly/backend.fly.toml",
      "-a",
      "api",
      "--remote-only",
      "--image-label",
      "20261129-120000-abcd",
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "--no-public-ips",
      "-e",
      "A=1",
      "-e",
      "RELEASE_ID=20261129-120000-abcd",
      "--yes",
    ]);
  });

  it("rollback deploy: a prebuilt image, no build, no release command", () => {
    expect(
      flyDeploy({
        app: "web",
        config: "infra/fly/client.fly.toml",
        strategy: "rolling",
        waitTimeout: "5m0s",
        image: "registry.fly.io/web:abc",
        skipReleaseCommand: true,
      }).args,
    ).toEqual([
      "deploy",
      "-c",
      "infra/fly/client.fly.toml",
      "-a",
      "web",
      "--image",
      "registry.fly.io/web:abc",
      "--strategy",
      "rolling",
      "--wait-timeout",
      "5m0s",
      "--skip-release-command",
      "--yes",
    ]);
  });
});
