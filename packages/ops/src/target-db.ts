import type pg from "pg";
import type { OpsContext } from "./context.ts";
import { connectPg, urlWhere } from "./db/connect.ts";
import { ensureOpsSchema } from "./db/ops-schema.ts";
import { ConfigError } from "./errors.ts";
import { existsSync } from "node:fs";
import { ensureLocalPostgres, localDatabaseUrl, runningPostgres } from "./local/postgres.ts";
import { checkMigrationUrl } from "./neon/migration-url.ts";
import { localPaths } from "./local/paths.ts";
import { resolveLocalSecrets } from "./secrets/local-source.ts";
import type { Secret } from "./secrets/secret.ts";

/**
 * The URL of the target's database: on `local`, `DATABASE_URL` if given, else the embedded
 * Postgres (started when `start` is true); on `fly`, `MIGRATION_DATABASE_URL` or `DATABASE_URL`.
 * @throws {ConfigError} on fly when neither variable is set.
 */
export async function targetDatabaseUrl(ctx: OpsContext, opts: { start: boolean }): Promise<Secret> {
  const { env } = ctx;
  if (env.target === "fly") {
    if (!env.migrationDatabaseUrl) {
      throw new ConfigError("no database URL for the fly target", {
        fix: "Set MIGRATION_DATABASE_URL (Neon direct endpoint, sslmode=require) in the environment.",
      });
    }
    // The lock, history and migrations all use this URL: Neon's rules apply before any connect (C-13, C-15).
    const check = checkMigrationUrl(env.migrationDatabaseUrl.reveal());
    if (!check.ok) throw new ConfigError(check.message, { where: "MIGRATION_DATABASE_URL", fix: check.fix });
    return env.migrationDatabaseUrl;
  }
  if (env.databaseUrl) return env.databaseUrl;
  const paths = localPaths(env.stateDir, env.environment);
  if (!opts.start && !runningPostgres(paths)) {
    throw new ConfigError(`the local database of environment "${env.environment}" is not running, so there is no lock or history to read`, {
      fix: existsSync(paths.secretsFile) ? "Start it with `pnpm ops:local up`." : "Nothing was deployed here yet: run `pnpm turbo run production-deploy`.",
    });
  }
  const secrets = resolveLocalSecrets(ctx.config, env, { create: opts.start });
  if (!secrets.postgresPassword) {
    throw new ConfigError(`nothing was deployed in environment "${env.environment}" yet`, { fix: "Run `pnpm turbo run production-deploy` first." });
  }
  ctx.addSecret(secrets.postgresPassword);
  if (opts.start) {
    const { started } = await ensureLocalPostgres(paths, {
      port: env.localPorts.postgres,
      password: secrets.postgresPassword,
      baseEnv: env.processEnv,
    });
    if (started) ctx.reporter.emit({ kind: "info", message: `started the local Postgres on 127.0.0.1:${env.localPorts.postgres}` });
  }
  const url = localDatabaseUrl(secrets.postgresPassword, env.localPorts.postgres);
  ctx.addSecret(url);
  return url;
}

/** Runs `fn` with a connected client of the target database (ops schema ensured), then closes it. */
export async function withTargetDb<T>(ctx: OpsContext, purpose: string, fn: (client: pg.Client) => Promise<T>, opts: { start?: boolean } = {}): Promise<T> {
  const url = await targetDatabaseUrl(ctx, { start: opts.start ?? true });
  const client = await connectPg(url, {
    purpose,
    where: urlWhere(url),
    connectTimeoutMs: ctx.config.migrate.connectTimeoutMs,
    attempts: ctx.config.migrate.connectAttempts,
    onRetry: (attempt, delayMs, reason) => ctx.reporter.emit({ kind: "retry", what: `connect (${purpose})`, attempt, delayMs, reason }),
  });
  try {
    await ensureOpsSchema(client);
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
