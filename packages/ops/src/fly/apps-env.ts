import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import dotenv from "dotenv";
import { z } from "zod";
import { appUrlKey, flyAppKey } from "../config/app-keys.ts";
import { appsEnvPath } from "../config/apps-env-file.ts";
import type { OpsConfig } from "../config/schema.ts";
import { ConfigError } from "../errors.ts";
import { neonApiHostFrom } from "../neon/client.ts";
import { flyWaitTimeoutMs } from "../text/go-duration.ts";

/** Per-environment values of the fly target, from `infra/fly/apps.env` (or `<env>.apps.env`). Not secrets. */
export interface FlyAppsEnv {
  file: string;
  org: string | undefined;
  region: string;
  /** Fly app name per ops app (`FLY_APP_<APP>`). */
  appNames: Record<string, string>;
  /** The public app's https URL (`PUBLIC_URL`; smoke checks go here). */
  publicUrl: string;
  /** Each public app's URL for the smoke checks that name it: `PUBLIC_URL_<APP>`, else `https://<fly-app>.fly.dev`. */
  appUrls: Record<string, string>;
  /** URLs that must NOT answer (`MUST_NOT_ANSWER`, default: each internal app's `https://<fly-app>.fly.dev/`). */
  mustNotAnswer: string[];
  neon: { projectId: string; branchId: string; apiHost: string } | undefined;
  /** `fly deploy --strategy` and `--wait-timeout` (checked: a Go duration or whole seconds, as flyctl reads it). */
  strategy: string;
  waitTimeout: string;
}

export { appsEnvPath };

const flyName = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, "Fly app names are lowercase letters, digits and dashes");

/**
 * Reads and validates the apps.env of an environment (dotenv syntax). `apps` are the deployed apps
 * (each needs `FLY_APP_<APP>`), `internal` those of them without public IPs (`fly.public: false`).
 * @throws {ConfigError} naming the file, the key and the fix when it is missing or malformed.
 */
export function loadFlyAppsEnv(repoRoot: string, environment: string, apps: readonly string[], internal: readonly string[]): FlyAppsEnv {
  const file = appsEnvPath(repoRoot, environment);
  const shown = relative(repoRoot, file);
  if (!existsSync(file)) {
    throw new ConfigError(`${shown} does not exist (per-environment values of "${environment}")`, {
      where: shown,
      fix: `cp infra/fly/apps.env.example ${shown} and fill in the values.`,
    });
  }
  const v = dotenv.parse(readFileSync(file));
  const need = (key: string): string => {
    const value = v[key]?.trim();
    if (!value)
      throw new ConfigError(`${shown}: ${key} is not set`, {
        where: `${shown} ${key}`,
        fix: `Set ${key} (see infra/fly/apps.env.example).`,
      });
    return value;
  };
  const appNames: Record<string, string> = {};
  for (const app of apps) {
    const key = flyAppKey(app);
    const parsed = flyName.safeParse(need(key));
    if (!parsed.success)
      throw new ConfigError(`${shown}: ${key}="${v[key]}": ${parsed.error.issues[0]?.message}`, {
        where: `${shown} ${key}`,
        fix: "Use the app name shown by `fly apps list`.",
      });
    appNames[app] = parsed.data;
  }
  const publicUrl = need("PUBLIC_URL");
  if (!/^https?:\/\/[^/]+/.test(publicUrl))
    throw new ConfigError(`${shown}: PUBLIC_URL="${publicUrl}" is not an http(s) URL`, {
      where: `${shown} PUBLIC_URL`,
      fix: "e.g. PUBLIC_URL=https://my-app.fly.dev",
    });
  const appUrls: Record<string, string> = {};
  for (const app of apps.filter((a) => !internal.includes(a))) {
    const url = v[appUrlKey(app)]?.trim().replace(/\/+$/, "") || `https://${appNames[app]}.fly.dev`;
    if (!/^https?:\/\/[^/]+/.test(url))
      throw new ConfigError(`${shown}: ${appUrlKey(app)}="${url}" is not an http(s) URL`, {
        where: `${shown} ${appUrlKey(app)}`,
        fix: `e.g. ${appUrlKey(app)}=https://${appNames[app]}.fly.dev, or remove it for that default`,
      });
    appUrls[app] = url;
  }
  const projectId = v.NEON_PROJECT_ID?.trim();
  const branchId = v.NEON_BRANCH_ID?.trim();
  const mustNotAnswer = (
    v.MUST_NOT_ANSWER?.trim()
      ? v.MUST_NOT_ANSWER.split(",")
      : apps.filter((a) => internal.includes(a)).map((a) => `https://${appNames[a]}.fly.dev/`)
  )
    .map((s) => s.trim())
    .filter(Boolean);
  const waitTimeout = v.FLY_WAIT_TIMEOUT?.trim() || "5m0s";
  if (flyWaitTimeoutMs(waitTimeout) === undefined)
    throw new ConfigError(`${shown}: FLY_WAIT_TIMEOUT="${waitTimeout}" is not a duration flyctl reads (fly deploy --wait-timeout)`, {
      where: `${shown} FLY_WAIT_TIMEOUT`,
      fix: "Use a Go duration such as 5m0s, 90s or 2m30s, or a whole number of seconds.",
    });
  return {
    file: shown,
    org: v.FLY_ORG?.trim() || undefined,
    region: need("FLY_REGION"),
    appNames,
    publicUrl: publicUrl.replace(/\/+$/, ""),
    appUrls,
    mustNotAnswer,
    // https only (loopback http for a stand-in): the API key travels in a header.
    neon:
      projectId && branchId
        ? { projectId, branchId, apiHost: neonApiHostFrom({ NEON_API_HOST: v.NEON_API_HOST?.trim() || undefined }) }
        : undefined,
    strategy: v.FLY_DEPLOY_STRATEGY?.trim() || "rolling",
    waitTimeout,
  };
}

/**
 * {@link loadFlyAppsEnv} for a config: every app of `deployOrder` needs its `FLY_APP_<APP>`, and
 * the internal ones (`fly.public: false`) are the default `MUST_NOT_ANSWER` URLs.
 * @throws {ConfigError} as {@link loadFlyAppsEnv}.
 */
export function loadFlyAppsEnvFor(config: Pick<OpsConfig, "deployOrder" | "apps">, repoRoot: string, environment: string): FlyAppsEnv {
  const internal = config.deployOrder.filter((app) => config.apps[app]?.fly?.public === false);
  return loadFlyAppsEnv(repoRoot, environment, config.deployOrder, internal);
}
