import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import type { OpsContext } from "../context.ts";
import { isNeonHost } from "../neon/migration-url.ts";
import { resolveFlySecrets } from "../secrets/fly-source.ts";
import type { CheckResult } from "./types.ts";

/**
 * Neon's rules for an app that reads its database as separate settings (`databaseSettings` in
 * ops.config.ts; authentik's `AUTHENTIK_POSTGRESQL__*`). Facts: Neon's pooled host is the direct
 * host with `-pooler` after the endpoint id and runs PgBouncer in transaction mode (Neon docs
 * "Connection pooling"); Django's server-side cursors do not survive transaction pooling, so
 * authentik must then run with `AUTHENTIK_POSTGRESQL__DISABLE_SERVER_SIDE_CURSORS=true` (authentik
 * docs "Configuration", "Using a PostgreSQL Connection Pooler"); Neon accepts TLS connections only
 * (Neon docs "Connect to Neon securely"), and libpq's sslmode require, verify-ca and verify-full are
 * the ones that insist on TLS. No value is ever shown: the host is one of the app's secrets.
 */
export interface DatabaseSettingsFacts {
  app: string;
  /** The variable names (`databaseSettings` of the app). */
  keys: { host: string; sslmode: string; disableServerSideCursors?: string | undefined };
  host: string | undefined;
  sslmode: string | undefined;
  /** The value of `disableServerSideCursors` from the app's secrets or its fly.toml `[env]`, and where it came from. */
  cursorsOff: { value: string; from: string } | undefined;
}

const TLS_MODES = new Set(["require", "verify-ca", "verify-full"]);

/** The results for one app (ids `database.settings.<app>`). Pure; never shows a value. */
export function judgeDatabaseSettings(f: DatabaseSettingsFacts): CheckResult[] {
  const id = `database.settings.${f.app}`;
  const where = `${f.keys.host} (secret of ${f.app})`;
  const out: CheckResult[] = [];
  const sslmode = f.sslmode?.trim().toLowerCase();
  if (!sslmode || !TLS_MODES.has(sslmode))
    out.push({
      id,
      status: "fail",
      message: `${f.keys.sslmode} of ${f.app} is ${sslmode ? `"${sslmode}"` : "empty"}; Neon takes TLS connections only and only require, verify-ca or verify-full insist on TLS`,
      where: `${f.keys.sslmode} (secret of ${f.app})`,
      fix: `Set ${f.keys.sslmode}=require in the secrets file.`,
    });
  const host = f.host?.trim() ?? "";
  if (!host || /[/@:?#\s]/.test(host)) {
    out.push({
      id,
      status: "fail",
      message: host
        ? `${f.keys.host} of ${f.app} is not a bare host name (it holds one of / @ : ? # or a space); the app would not find its database`
        : `${f.keys.host} of ${f.app} is empty`,
      where,
      fix: `Set ${f.keys.host} to the host alone (ep-….neon.tech), without scheme, user, port or path.`,
    });
    return out;
  }
  if (!isNeonHost(host)) {
    if (out.length === 0)
      out.push({ id, status: "pass", message: `${f.keys.host} of ${f.app} is not a Neon host; only its TLS mode was checked` });
    return out;
  }
  const pooler = host.toLowerCase().split(".")[0]!.endsWith("-pooler");
  const off = f.cursorsOff?.value.trim().toLowerCase() === "true";
  const flag = f.keys.disableServerSideCursors;
  if (pooler && !off) {
    out.push({
      id,
      status: "fail",
      message: `${f.keys.host} of ${f.app} is a Neon pooler endpoint (PgBouncer, transaction mode) but ${flag ?? "nothing"} turns server-side cursors off${f.cursorsOff ? ` (${f.cursorsOff.from} has "${f.cursorsOff.value}")` : ""}; queries that use cursors fail`,
      where,
      fix: `Use the direct endpoint (drop "-pooler" from the first label of the host), or set ${flag ?? "the app's cursor setting"} = "true" in its fly.toml [env].`,
    });
  } else if (out.length === 0) {
    out.push({
      id,
      status: "pass",
      message: pooler
        ? `${f.app} reaches Neon through the pooler with server-side cursors off (${f.cursorsOff!.from}), over TLS`
        : `${f.app} reaches Neon on the direct endpoint, over TLS`,
    });
  }
  return out;
}

/** `[env]` of a fly.toml as strings, or {} when it cannot be read (the fly.toml checks report why). */
function flyTomlEnv(path: string): Record<string, string> {
  try {
    const doc = parse(readFileSync(path, "utf8")) as { env?: Record<string, unknown> };
    return Object.fromEntries(Object.entries(doc.env ?? {}).map(([k, v]) => [k, String(v)]));
  } catch {
    return {};
  }
}

/** Neon's rules for each app of the environment that declares `databaseSettings`, read from the fly secrets and its fly.toml. */
export function checkDatabaseSettings(ctx: OpsContext): CheckResult[] {
  const apps = ctx.config.deployOrder.filter((a) => ctx.config.apps[a]?.databaseSettings);
  if (apps.length === 0) return [];
  let values: Map<string, { reveal(): string }>;
  try {
    values = resolveFlySecrets(ctx.config, ctx.env).values;
  } catch {
    return []; // the secrets check says why
  }
  return apps.flatMap((app) => {
    const cfg = ctx.config.apps[app]!;
    const keys = cfg.databaseSettings!;
    const flag = keys.disableServerSideCursors;
    const tomlPath = cfg.fly ? join(ctx.env.repoRoot, cfg.fly.config) : undefined;
    const fromSecret = flag && cfg.secrets.includes(flag) ? values.get(flag)?.reveal() : undefined;
    const fromToml = flag && tomlPath && existsSync(tomlPath) ? flyTomlEnv(tomlPath)[flag] : undefined;
    const cursorsOff =
      fromSecret !== undefined
        ? { value: fromSecret, from: `${flag} (secret of ${app})` }
        : fromToml !== undefined
          ? { value: fromToml, from: `${cfg.fly!.config} [env]` }
          : undefined;
    return judgeDatabaseSettings({
      app,
      keys,
      host: values.get(keys.host)?.reveal(),
      sslmode: values.get(keys.sslmode)?.reveal(),
      cursorsOff,
    });
  });
}
