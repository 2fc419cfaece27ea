/**
 * This repository's own infrastructure files pass the preflight checks: infra/fly/*.fly.toml,
 * both Dockerfiles (against the real build context and .dockerignore), and apps.env.example.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import { loadOpsConfig } from "../../src/config/load.ts";
import { loadFlyAppsEnv } from "../../src/fly/apps-env.ts";
import { checkDockerfile } from "../../src/preflight/dockerfile-checks.ts";
import { checkInternalFlyToml, checkPublicFlyToml } from "../../src/preflight/fly-toml-checks.ts";
import { checkFlyTomlEnvSecrets } from "../../src/preflight/fly-toml-env-secrets.ts";
import { checkFlyTomlSchema } from "../../src/preflight/fly-toml-schema.ts";
import { checkImageRefs } from "../../src/preflight/image-ref.ts";
import { portContractOf } from "../../src/preflight/port-contract.ts";
import { CONTRACTS } from "./contracts.ts";
import type { CheckResult } from "../../src/preflight/types.ts";
import { parseSecretsFile } from "../../src/secrets/dotenv-dialect.ts";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const FLY = join(repoRoot, "infra/fly");
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");
const notPass = (r: CheckResult[]) => r.filter((x) => x.status !== "pass");
const toml = (path: string) => parse(read(path)) as Record<string, Record<string, unknown> | undefined>;

describe("the apps' port contracts", () => {
  it("ops.config.ts declares the contracts the preflight tests use", async () => {
    const config = await loadOpsConfig(repoRoot);
    expect(portContractOf("client", config.apps.client!)).toEqual(CONTRACTS.client);
    expect(portContractOf("backend", config.apps.backend!)).toEqual(CONTRACTS.backend);
  });
});

describe("infra/fly/*.fly.toml", () => {
  it("client.fly.toml passes checkClientFlyToml with no fail and no warning", () => {
    expect(notPass(checkPublicFlyToml(read("infra/fly/client.fly.toml"), "infra/fly/client.fly.toml", CONTRACTS.client))).toEqual([]);
  });

  it("backend.fly.toml passes checkBackendFlyToml with no fail and no warning", () => {
    expect(notPass(checkInternalFlyToml(read("infra/fly/backend.fly.toml"), "infra/fly/backend.fly.toml", CONTRACTS.backend))).toEqual([]);
  });

  it.each(["client", "backend"])("%s: [build] dockerfile, relative to the fly.toml, is the app's Dockerfile", (app) => {
    const doc = toml(`infra/fly/${app}.fly.toml`);
    const dockerfile = doc.build?.dockerfile as string;
    expect(resolve(FLY, dockerfile)).toBe(join(repoRoot, "apps", app, "Dockerfile"));
    expect(doc.deploy?.strategy).toBe("rolling");
  });

  it("backend: internal only, no release_command (migrations run from the pipeline)", () => {
    const doc = toml("infra/fly/backend.fly.toml");
    expect(doc.http_service).toBeUndefined();
    expect(doc.services).toBeUndefined();
    expect(doc.deploy).not.toHaveProperty("release_command");
    expect(doc.checks?.grpc_port).toMatchObject({ type: "tcp", port: 50051 });
  });

  it("client: reaches the backend over 6PN and serves https with a /healthz check", () => {
    const doc = toml("infra/fly/client.fly.toml");
    expect(doc.env).toMatchObject({
      PORT: "3000",
      HOST: "0.0.0.0",
      GRPC_PROTO_ROOT: "/app/proto",
      BACKEND_GRPC_ADDR: expect.stringMatching(/^[a-z0-9-]+\.internal:50051$/),
    });
    expect(doc.http_service).toMatchObject({ internal_port: 3000, force_https: true, auto_stop_machines: "stop", min_machines_running: 1 });
    expect(doc.http_service?.checks).toEqual([
      expect.objectContaining({ method: "GET", path: "/healthz", grace_period: "10s", interval: "15s", timeout: "5s" }),
    ]);
  });

  it("authentik.fly.toml passes the public-app, schema and [env] checks against its entry in ops.config.ts", async () => {
    const config = await loadOpsConfig(repoRoot);
    const text = read("infra/fly/authentik.fly.toml");
    const where = "infra/fly/authentik.fly.toml";
    expect(notPass(checkPublicFlyToml(text, where, portContractOf("authentik", config.apps.authentik!)))).toEqual([]);
    expect(checkFlyTomlSchema(text, where)).toEqual([]);
    expect(checkFlyTomlEnvSecrets(text, where)).toEqual([]);
    expect(checkImageRefs(config).map((r) => r.status)).toEqual(["pass"]);
  });

  it("authentik: one image, a server and a worker group, the server public on 9000, both watched on /-/health/live/", () => {
    const doc = toml("infra/fly/authentik.fly.toml");
    expect(doc.build).toBeUndefined();
    expect(doc.processes).toEqual({ server: "server", worker: "worker" });
    expect(doc.http_service).toMatchObject({ internal_port: 9000, force_https: true, processes: ["server"] });
    expect(doc.http_service?.checks).toEqual([expect.objectContaining({ path: "/-/health/live/" })]);
    expect(doc.checks?.worker_live).toMatchObject({ type: "http", port: 9000, path: "/-/health/live/", processes: ["worker"] });
  });

  it("no [env] entry of any app is a secret", () => {
    for (const app of ["client", "backend", "authentik"]) {
      const env = Object.keys(toml(`infra/fly/${app}.fly.toml`).env ?? {});
      expect(env.filter((k) => /KEY|TOKEN|SECRET|PASSWORD|DATABASE_URL/.test(k))).toEqual([]);
    }
  });
});

describe("apps/*/Dockerfile", () => {
  it.each(["client", "backend"] as const)(
    "%s Dockerfile passes checkDockerfile (repo root context, its fly.toml) with no fail and no warning",
    (kind) => {
      const r = checkDockerfile(join(repoRoot, "apps", kind, "Dockerfile"), {
        contextDir: repoRoot,
        contract: CONTRACTS[kind],
        flyTomlPath: join(FLY, `${kind}.fly.toml`),
      });
      expect(notPass(r)).toEqual([]);
      expect(r).toEqual([expect.objectContaining({ id: `dockerfile.${kind}`, status: "pass", where: `apps/${kind}/Dockerfile` })]);
    },
  );

  it("the root .dockerignore exists and keeps what the client's `COPY . .` build needs", () => {
    expect(existsSync(join(repoRoot, ".dockerignore"))).toBe(true);
    const lines = read(".dockerignore").split("\n");
    for (const kept of ["package.json", "pnpm-lock.yaml", "pnpm-workspace.yaml", "proto", "apps", "packages"])
      expect(lines).not.toContain(kept);
  });
});

describe("infra/fly/apps.env.example", () => {
  const KEYS = [
    "FLY_ORG",
    "FLY_REGION",
    "FLY_APP_CLIENT",
    "FLY_APP_BACKEND",
    "FLY_APP_AUTHENTIK",
    "PUBLIC_URL",
    "PUBLIC_URL_AUTHENTIK",
    "NEON_PROJECT_ID",
    "NEON_BRANCH_ID",
    "NEON_API_HOST",
    "MUST_NOT_ANSWER",
    "FLY_DEPLOY_STRATEGY",
    "FLY_WAIT_TIMEOUT",
  ];

  it("reads in the secrets-file dialect and holds every per-environment key", () => {
    const parsed = parseSecretsFile(readFileSync(join(FLY, "apps.env.example")), "infra/fly/apps.env.example");
    expect(parsed.warnings).toEqual([]);
    expect(parsed.entries.map((e) => e.key)).toEqual(KEYS);
  });

  it("every key has a comment right above it, and no secret key is listed", () => {
    const lines = read("infra/fly/apps.env.example").split("\n");
    for (const key of KEYS) {
      const i = lines.findIndex((l) => l.startsWith(`${key}=`));
      expect(lines[i - 1], key).toMatch(/^# /);
    }
    expect(lines.filter((l) => /^[A-Z_]+=/.test(l) && /KEY=|TOKEN=|SECRET=|PASSWORD=|DATABASE_URL=/.test(l))).toEqual([]);
  });

  it("the fly target's reader accepts it as apps.env and as staging.apps.env, with the documented defaults", () => {
    const root = mkdtempSync(join(tmpdir(), "apps-env-"));
    try {
      mkdirSync(join(root, "infra/fly"), { recursive: true });
      for (const name of ["apps.env", "staging.apps.env"]) copyFileSync(join(FLY, "apps.env.example"), join(root, "infra/fly", name));
      for (const env of ["production", "staging"]) {
        const apps = loadFlyAppsEnv(root, env, ["backend", "client"], ["backend"]);
        expect(apps).toMatchObject({
          file: env === "production" ? "infra/fly/apps.env" : "infra/fly/staging.apps.env",
          region: "iad",
          appNames: { backend: "deploy-ops-backend", client: "deploy-ops-client" },
          publicUrl: "https://deploy-ops-client.fly.dev",
          mustNotAnswer: ["https://deploy-ops-backend.fly.dev/"],
          strategy: "rolling",
          waitTimeout: "5m0s",
        });
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("the filled-in copies stay out of git and out of images", () => {
    expect(read(".gitignore")).toMatch(/^infra\/fly\/apps\.env$/m);
    expect(read(".gitignore")).toMatch(/^infra\/fly\/\*\.apps\.env$/m);
    expect(read(".dockerignore")).toMatch(/^infra\/fly\/apps\.env$/m);
  });
});
