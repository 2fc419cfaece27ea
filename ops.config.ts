import { defineOpsConfig } from "@repo/ops";

/**
 * The project's operations, validated at the start of every step (packages/ops/src/config/schema.ts
 * documents each field). Per-environment values (Fly app names, region, URLs) live in
 * infra/fly/apps.env; secret values never live here.
 */
export default defineOpsConfig({
  project: "deploy-ops-demo",
  migrationsDir: "migrations",
  // authentik deploys after the migrations and before the client (the client may depend on it).
  deployOrder: ["backend", "authentik", "client"],
  publicApp: "client",
  apps: {
    backend: {
      dir: "apps/backend",
      artifacts: ["bin/backend"],
      command: ["bin/backend"],
      portEnv: "GRPC_PORT",
      hostEnv: "GRPC_HOST",
      localPort: 50051,
      localEnv: { GRPC_HOST: "127.0.0.1", DB_PROBE_INTERVAL: "1s" },
      secrets: ["DATABASE_URL", "BACKEND_AUTH_TOKEN"],
      health: { kind: "grpc", service: "", timeoutMs: 30_000 },
      fly: { config: "infra/fly/backend.fly.toml", public: false, port: 50051, stack: "go-static" },
    },
    // The identity provider, off unless an environment's apps.env sets FLY_APP_AUTHENTIK: a pinned
    // prebuilt image with a server and a worker process group (infra/fly/authentik.fly.toml).
    authentik: {
      dir: "apps/authentik",
      image: "ghcr.io/goauthentik/server:2025.10.1",
      optional: true,
      secrets: [
        "AUTHENTIK_SECRET_KEY",
        "AUTHENTIK_POSTGRESQL__HOST",
        "AUTHENTIK_POSTGRESQL__NAME",
        "AUTHENTIK_POSTGRESQL__USER",
        "AUTHENTIK_POSTGRESQL__PASSWORD",
        "AUTHENTIK_POSTGRESQL__SSLMODE",
      ],
      databaseSettings: {
        host: "AUTHENTIK_POSTGRESQL__HOST",
        sslmode: "AUTHENTIK_POSTGRESQL__SSLMODE",
        disableServerSideCursors: "AUTHENTIK_POSTGRESQL__DISABLE_SERVER_SIDE_CURSORS",
      },
      health: { kind: "http", path: "/-/health/live/", timeoutMs: 300_000 },
      fly: { config: "infra/fly/authentik.fly.toml", public: true, port: 9000 },
    },
    client: {
      dir: "apps/client",
      artifacts: ["build"],
      command: ["node", "build/server.mjs"],
      portEnv: "PORT",
      hostEnv: "HOST",
      localPort: 3000,
      localEnv: { HOST: "127.0.0.1", NODE_ENV: "production" },
      links: { BACKEND_GRPC_ADDR: "backend" },
      secrets: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"],
      health: { kind: "http", path: "/healthz", timeoutMs: 30_000 },
      fly: { config: "infra/fly/client.fly.toml", public: true, port: 3000, stack: "node-remix" },
    },
  },
  secrets: {
    generated: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN", "AUTHENTIK_SECRET_KEY"],
    rotatable: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN", "AUTHENTIK_SECRET_KEY"],
    // authentik wants a secret key of 50 characters or more: 48 bytes are 64 base64url characters.
    bytes: { AUTHENTIK_SECRET_KEY: 48 },
    // Settings synced with the secrets but readable by anyone: masking "authentik" or "require"
    // would blank those words out of every line.
    plain: ["AUTHENTIK_POSTGRESQL__NAME", "AUTHENTIK_POSTGRESQL__USER", "AUTHENTIK_POSTGRESQL__SSLMODE"],
    // The client refuses a shorter SESSION_SECRET when it starts (apps/client/app/env.server.ts);
    // authentik wants a secret key of 50 characters or more. Preflight checks both first.
    rules: { SESSION_SECRET: { minLength: 32 }, AUTHENTIK_SECRET_KEY: { minLength: 50 } },
  },
  smoke: {
    deadlineMs: 90_000,
    checks: [
      { name: "healthz proves the release", path: "/healthz", expectReleases: true },
      { name: "home page", path: "/", expectText: "Deploy ops demo" },
      // authentik's readiness (its database reachable), on its own URL; 200 or 204 by version.
      { name: "authentik ready", app: "authentik", path: "/-/health/ready/", expectStatus: [200, 204] },
    ],
  },
  // Every pipeline task renews the deploy lock in the target database and most call flyctl, so
  // they need the database URL and the Fly token; preflight checks turbo.json declares them (C-17).
  turbo: {
    requiredEnv: {
      "production-preflight": ["OPS_TARGET", "OPS_ENV", "DATABASE_URL", "FLY_API_TOKEN"],
      "production-sync-secrets": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "db-migrate": ["OPS_TARGET", "DATABASE_URL", "MIGRATION_DATABASE_URL", "NEON_API_KEY"],
      "production-clean": ["OPS_TARGET", "MIGRATION_DATABASE_URL"],
      "production-artifacts": ["OPS_TARGET", "MIGRATION_DATABASE_URL"],
      "backend#deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "authentik#deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "client#deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "production-smoke": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "production-deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL", "GITHUB_STEP_SUMMARY"],
    },
    secretEnv: ["DATABASE_URL", "MIGRATION_DATABASE_URL", "FLY_API_TOKEN", "NEON_API_KEY"],
    sideEffectTasks: [
      "production-preflight",
      "production-sync-secrets",
      "db-migrate",
      "production-clean",
      "production-artifacts",
      "backend#deploy",
      "authentik#deploy",
      "client#deploy",
      "production-smoke",
      "production-deploy",
    ],
    buildTasks: ["build", "production-build"],
  },
});
