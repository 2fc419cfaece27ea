import { describe, expect, it } from "vitest";
import repoConfig from "../../../../ops.config.ts";
import { loadOpsConfig, parseOpsConfig } from "../../src/config/load.ts";
import { closest, validateConfigRules } from "../../src/config/rules.ts";
import { ConfigError } from "../../src/errors.ts";
import { findRepoRoot } from "../../src/env.ts";
import { fileURLToPath } from "node:url";

/** A small valid config; each case breaks one thing. */
const base = () => ({
  project: "demo",
  deployOrder: ["backend", "client"],
  publicApp: "client",
  apps: {
    backend: {
      dir: "apps/backend",
      artifacts: ["bin/backend"],
      command: ["bin/backend"],
      portEnv: "GRPC_PORT",
      secrets: ["DATABASE_URL", "BACKEND_AUTH_TOKEN"],
      health: { kind: "grpc" },
    } as Record<string, unknown>,
    client: {
      dir: "apps/client",
      artifacts: ["build"],
      command: ["node", "build/server.mjs"],
      portEnv: "PORT",
      links: { BACKEND_GRPC_ADDR: "backend" } as Record<string, string>,
      secrets: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"],
      health: { kind: "http" },
    } as Record<string, unknown>,
  } as Record<string, Record<string, unknown>>,
  secrets: { generated: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"], rotatable: ["SESSION_SECRET"] },
  smoke: { checks: [{ name: "healthz", path: "/healthz", expectReleases: true }] } as Record<string, unknown>,
});
type Written = ReturnType<typeof base>;

function problems(mutate: (c: Written) => void): string[] {
  const c = base();
  mutate(c);
  try {
    parseOpsConfig(c);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.where).toBe("ops.config.ts");
    expect(e.fix).toBe("Correct the listed fields in ops.config.ts.");
    const [head, ...lines] = e.message.split("\n  ");
    expect(head).toBe("ops.config.ts is not valid:");
    return lines;
  }
  throw new Error("parseOpsConfig accepted a broken config");
}

describe("parseOpsConfig", () => {
  it("accepts the repository's own ops.config.ts", () => {
    const config = parseOpsConfig(repoConfig);
    expect(config.deployOrder).toEqual(["backend", "authentik", "client"]);
    expect(config.apps.authentik).toMatchObject({ optional: true, image: "ghcr.io/goauthentik/server:2025.10.1" });
    expect(config.publicApp).toBe("client");
    expect(validateConfigRules(config)).toEqual([]);
    // defaults are applied
    expect(config.apps.backend!.releaseEnv).toBe("RELEASE_ID");
    expect(config.smoke.retryDelayMs).toBe(500);
    expect(config.migrate.lockTimeoutMs).toBe(30_000);
    expect(config.lock.ttlMs).toBe(300_000);
    // an omitted block gets every inner default, not a hand-kept copy of them
    expect(config.migrate.lintFail).toContain("ban-drop-column");
    expect(config.migrate.pgVersion).toBe("17");
    expect(config.neon).toEqual({ pollIntervalMs: 5_000, pollTimeoutMs: 600_000 });
  });

  it("loadOpsConfig reads the same file from the repository root", async () => {
    const root = findRepoRoot(fileURLToPath(new URL(".", import.meta.url)))!;
    const loaded = await loadOpsConfig(root);
    expect(loaded).toEqual(parseOpsConfig(repoConfig));
  });

  it("loadOpsConfig names the folder when the file is missing", async () => {
    await expect(loadOpsConfig("/nonexistent-ops-root")).rejects.toThrow("ops.config.ts not found in /nonexistent-ops-root");
  });

  it("accepts the small base config and fills defaults", () => {
    const c = parseOpsConfig(base());
    expect(c.apps.backend!.health).toEqual({ kind: "grpc", service: "", timeoutMs: 60_000 });
    expect(c.apps.client!.health).toEqual({ kind: "http", path: "/healthz", timeoutMs: 60_000 });
    expect(c.smoke.checks[0]).toEqual({ name: "healthz", path: "/healthz", expectStatus: 200, expectReleases: true });
    expect(c.migrationsDir).toBe("migrations");
  });

  it.each<[string, (c: Written) => void, string[]]>([
    [
      "deployOrder typo",
      (c) => (c.deployOrder = ["backnd", "client"]),
      ['deployOrder[0]: "backnd" is not an app; did you mean backend?', 'deployOrder: app "backend" is missing; list every app once'],
    ],
    [
      "deployOrder name far from any app",
      (c) => (c.deployOrder = ["backend", "client", "database"]),
      ['deployOrder[2]: "database" is not an app'],
    ],
    ["app missing from deployOrder", (c) => (c.deployOrder = ["client"]), ['deployOrder: app "backend" is missing; list every app once']],
    [
      'linking app missing from deployOrder: no false "deploys after"',
      (c) => (c.deployOrder = ["backend"]),
      ['deployOrder: app "client" is missing; list every app once'],
    ],
    ["app listed twice", (c) => (c.deployOrder = ["backend", "client", "backend"]), ['deployOrder[2]: "backend" is listed twice']],
    [
      "link to an unknown app",
      (c) => (c.apps.client!.links = { BACKEND_GRPC_ADDR: "backed" }),
      ['apps.client.links.BACKEND_GRPC_ADDR: "backed" is not an app; did you mean backend?'],
    ],
    [
      "link to an app deploying later",
      (c) => (c.deployOrder = ["client", "backend"]),
      ['apps.client.links.BACKEND_GRPC_ADDR: "backend" deploys after "client"; move it earlier in deployOrder'],
    ],
    ["publicApp unknown", (c) => (c.publicApp = "clinet"), ['publicApp: "clinet" is not an app; did you mean client?']],
    [
      "generated secret given to no app",
      (c) => (c.secrets.generated = ["SESSION_SECRET", "SESION_SECRET"]),
      ['secrets.generated[1]: "SESION_SECRET" is not given to any app; did you mean SESSION_SECRET?'],
    ],
    [
      "rotatable secret given to no app",
      (c) => (c.secrets.rotatable = ["API_KEY"]),
      ['secrets.rotatable[0]: "API_KEY" is not given to any app'],
    ],
    [
      "duplicate secret in an app",
      (c) => (c.apps.backend!.secrets = ["DATABASE_URL", "BACKEND_AUTH_TOKEN", "DATABASE_URL"]),
      ['apps.backend.secrets[2]: "DATABASE_URL" is listed twice'],
    ],
    [
      "bad env key name",
      (c) => (c.apps.client!.secrets = ["1SESSION", "SESSION_SECRET"]),
      ["apps.client.secrets[0]: must match ^[A-Za-z_][A-Za-z0-9_]*$"],
    ],
    [
      "bad link key name",
      (c) => (c.apps.client!.links = { "BACKEND-ADDR": "backend" }),
      ["apps.client.links.BACKEND-ADDR: must match ^[A-Za-z_][A-Za-z0-9_]*$"],
    ],
    ["missing smoke checks", (c) => delete c.smoke.checks, ['smoke.checks: required key "checks" is missing (expected array)']],
    ["empty smoke checks", (c) => (c.smoke.checks = []), ["smoke.checks: Too small: expected array to have >=1 items"]],
    [
      "smoke path without a slash",
      (c) => (c.smoke.checks = [{ name: "x", path: "healthz" }]),
      ['smoke.checks[0].path: Invalid string: must start with "/"'],
    ],
    [
      "unknown health kind",
      (c) => (c.apps.backend!.health = { kind: "tcp" }),
      ["apps.backend.health.kind: Invalid discriminator value. Expected 'grpc' | 'http'"],
    ],
  ])("%s", (_name, mutate, expected) => {
    expect(problems(mutate)).toEqual(expected);
  });

  it("lists every problem at once", () => {
    expect(
      problems((c) => {
        c.publicApp = "web";
        c.deployOrder = ["backend", "client", "client"];
        c.apps.client!.secrets = ["SESSION_SECRET", "SESSION_SECRET", "BACKEND_AUTH_TOKEN"];
      }),
    ).toEqual([
      'deployOrder[2]: "client" is listed twice',
      'publicApp: "web" is not an app',
      'apps.client.secrets[1]: "SESSION_SECRET" is listed twice',
    ]);
  });

  it("uses the given file name in the message", () => {
    expect(() => parseOpsConfig({}, "other.ts")).toThrow(/^other\.ts is not valid:\n {2}project: /);
  });
});

describe("closest", () => {
  it.each<[string, string[], string | undefined]>([
    ["backnd", ["backend", "client"], "backend"],
    ["Backend", ["backend", "client"], "backend"], // case is ignored
    ["clinet", ["backend", "client"], "client"], // a transposition is 2 edits
    ["SESION_SECRET", ["SESSION_SECRET", "DATABASE_URL"], "SESSION_SECRET"],
    ["database", ["backend", "client"], undefined],
    ["abc", ["xyz"], undefined], // 3 edits is too far
    ["abc", ["abx", "axx"], "abx"], // the nearest wins
    ["ab", ["abcd", "ab"], "ab"], // an exact match beats a near one listed first
    ["anything", [], undefined],
  ])("closest(%j, %j) = %j", (word, candidates, expected) => {
    expect(closest(word, candidates)).toBe(expected);
  });
});

describe("unknown keys in ops.config.ts", () => {
  it.each<[string, (c: Written) => void, string[]]>([
    [
      "a misspelled optional app key",
      (c) => (c.apps.client!.locaEnv = { HOST: "0.0.0.0" }),
      [
        'apps.client: unknown key "locaEnv"; did you mean localEnv? (known keys: dir, image, optional, artifacts, command, portEnv, localPort, hostEnv, releaseEnv, localEnv, links, secrets, databaseSettings, health, fly)',
      ],
    ],
    [
      "a misspelled top-level key",
      (c) => ((c as Record<string, unknown>).deployorder = ["backend"]),
      [
        '(root): unknown key "deployorder"; did you mean deployOrder? (known keys: project, migrationsDir, apps, deployOrder, publicApp, onDeployFailure, secrets, smoke, migrate, neon, lock, turbo)',
      ],
    ],
    [
      "an unknown key far from any",
      (c) => (c.smoke.extra = 1),
      ['smoke: unknown key "extra" (known keys: checks, deadlineMs, attemptTimeoutMs, retryDelayMs, maxRetryDelayMs)'],
    ],
    [
      "inside a discriminated union member",
      (c) => (c.apps.backend!.health = { kind: "grpc", timeoutMS: 5 }),
      ['apps.backend.health: unknown key "timeoutMS"; did you mean timeoutMs? (known keys: kind, service, timeoutMs)'],
    ],
    [
      "a missing required key",
      (c) => delete (c.apps.backend as Record<string, unknown>).portEnv,
      [
        'apps.backend.portEnv: required key "portEnv" is missing (a built app needs it; an app that runs a prebuilt image sets image instead)',
      ],
    ],
    [
      "a missing required top-level key",
      (c) => delete (c as Record<string, unknown>).publicApp,
      ['publicApp: required key "publicApp" is missing (expected string)'],
    ],
    [
      "a misspelled key in apps.<app>.fly",
      (c) => (c.apps.client!.fly = { config: "infra/fly/client.fly.toml", public: true, pubilc: true }),
      ['apps.client.fly: unknown key "pubilc"; did you mean public? (known keys: config, public, port, stack)'],
    ],
    [
      "a misspelled key in a defaulted section",
      (c) => ((c as Record<string, unknown>).migrate = { lockTimeoutMS: 5 }),
      [
        'migrate: unknown key "lockTimeoutMS"; did you mean lockTimeoutMs? (known keys: lockTimeoutMs, deadlineMs, connectTimeoutMs, connectAttempts, statementLockTimeoutMs, statementTimeoutMs, lintExclude, lintFail, pgVersion)',
      ],
    ],
    [
      "two unknown keys in one object",
      (c) => Object.assign(c.apps.backend!, { artefacts: ["x"], secret: [] }),
      [
        'apps.backend: unknown key "artefacts"; did you mean artifacts?; unknown key "secret"; did you mean secrets? (known keys: dir, image, optional, artifacts, command, portEnv, localPort, hostEnv, releaseEnv, localEnv, links, secrets, databaseSettings, health, fly)',
      ],
    ],
  ])("%s", (_name, mutate, expected) => {
    expect(problems(mutate)).toEqual(expected);
  });

  it("near-misses pass: every documented optional key, spelled right", () => {
    const c = base();
    Object.assign(c.apps.client!, {
      releaseEnv: "RELEASE_ID",
      localEnv: { HOST: "127.0.0.1" },
      fly: { config: "infra/fly/client.fly.toml", public: true, port: 3000 },
    });
    expect(() =>
      parseOpsConfig({ ...c, migrationsDir: "migrations", lock: { ttlMs: 1000 }, neon: { pollIntervalMs: 1000 } }),
    ).not.toThrow();
  });
});
