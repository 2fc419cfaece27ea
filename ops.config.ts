import { defineOpsConfig } from "@repo/ops";

/**
 * The project's operations, validated at the start of every step (packages/ops/src/config/schema.ts
 * documents each field). Per-environment values (Fly app names, region, URLs) live in
 * infra/fly/apps.env; secret values never live here.
 */
export default defineOpsConfig({
  project: "deploy-ops-demo",
  migrationsDir: "migrations",
  deployOrder: ["backend", "client"],
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
    generated: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"],
    rotatable: ["SESSION_SECRET", "BACKEND_AUTH_TOKEN"],
  },
  smoke: {
    deadlineMs: 90_000,
    checks: [
      { name: "healthz proves the release", path: "/healthz", expectReleases: true },
      { name: "home page", path: "/", expectText: "Deploy ops demo" },
    ],
  },
  // Every pipeline task renews the deploy lock in the target database and most call flyctl, so
  // they need the database URL and the Fly token; preflight checks turbo.json declares them (C-17).
  turbo: {
    requiredEnv: {
      "production-preflight": ["OPS_TARGET", "OPS_ENV", "DATABASE_URL", "FLY_API_TOKEN"],
      "production-sync-secrets": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "db-migrate": ["OPS_TARGET", "DATABASE_URL", "MIGRATION_DATABASE_URL", "NEON_API_KEY"],
      "production-artifacts": ["OPS_TARGET", "MIGRATION_DATABASE_URL"],
      "backend#deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "client#deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "production-smoke": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL"],
      "production-deploy": ["OPS_TARGET", "FLY_API_TOKEN", "MIGRATION_DATABASE_URL", "GITHUB_STEP_SUMMARY"],
    },
    secretEnv: ["DATABASE_URL", "MIGRATION_DATABASE_URL", "FLY_API_TOKEN", "NEON_API_KEY"],
    sideEffectTasks: [
      "production-preflight",
      "production-sync-secrets",
      "db-migrate",
      "production-artifacts",
      "backend#deploy",
      "client#deploy",
      "production-smoke",
      "production-deploy",
    ],
    buildTasks: ["build", "production-build"],
  },
});
