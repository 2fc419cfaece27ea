import type pg from "pg";
import type { OpsContext } from "./context.ts";
import { connectPg, urlWhere } from "./db/connect.ts";
import { ensureOpsSchema } from "./db/ops-schema.ts";
import { ConfigError } from "./errors.ts";
import { ensureLocalPostgres, localDatabaseUrl } from "./local/postgres.ts";
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
    return env.migrationDatabaseUrl;
  }
  if (env.databaseUrl) return env.databaseUrl;
  const secrets = resolveLocalSecrets(ctx.config, env, { create: opts.start });
  if (!secrets.postgresPassword) {
    throw new ConfigError("the local Postgres has no password yet", { fix: "Run `pnpm turbo run production-deploy` once (preflight sets it up)." });
  }
  ctx.addSecret(secrets.postgresPassword);
  if (opts.start) {
    const { started } = await ensureLocalPostgres(localPaths(env.stateDir, env.environment), {
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
