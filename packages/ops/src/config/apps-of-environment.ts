import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { flyAppKey } from "./app-keys.ts";
import { appsEnvPath } from "./apps-env-file.ts";
import type { OpsConfig } from "./schema.ts";

/** The apps one environment deploys, and the one line each optional app that is off there prints. */
export interface AppsOfEnvironment {
  /** The config without the apps that are off: every step sees only these. */
  config: OpsConfig;
  /** App → the line that says it is off and why (`authentik: off in staging (…)`). */
  off: Map<string, string>;
}

/**
 * Drops the optional apps (`optional: true`) an environment does not turn on. An optional app is on
 * when the environment's apps.env (`infra/fly/apps.env`, `infra/fly/<env>.apps.env`) sets its
 * `FLY_APP_<APP>` to a non-empty value, on every target (the local target then says it does not run
 * an image-only app, but still generates its secrets). An app that is off leaves `apps`,
 * `deployOrder`, the smoke checks that call it and the turbo settings of its own tasks (`<app>#…`); `secrets.generated`/`rotatable` keep only keys a
 * remaining app receives. Reads apps.env (with dotenv, as the fly target does) only when some app is
 * optional and the file exists.
 */
export async function appsOfEnvironment(config: OpsConfig, repoRoot: string, environment: string): Promise<AppsOfEnvironment> {
  const optional = config.deployOrder.filter((app) => config.apps[app]?.optional);
  if (optional.length === 0) return { config, off: new Map() };
  const file = appsEnvPath(repoRoot, environment);
  const shown = relative(repoRoot, file);
  const values = existsSync(file) ? (await import("dotenv")).default.parse(readFileSync(file)) : {};
  const off = new Map<string, string>();
  for (const app of optional) {
    const key = flyAppKey(app);
    if (!values[key]?.trim())
      off.set(app, `${app}: off in ${environment} (${key} is not set in ${shown}); nothing of it is synced, deployed or checked`);
  }
  if (off.size === 0) return { config, off };
  const apps = Object.fromEntries(Object.entries(config.apps).filter(([app]) => !off.has(app)));
  const ofOffApp = (task: string) => off.has(task.split("#")[0]!) && task.includes("#");
  const kept = new Set(Object.values(apps).flatMap((a) => a.secrets));
  return {
    off,
    config: {
      ...config,
      apps,
      deployOrder: config.deployOrder.filter((app) => !off.has(app)),
      secrets: {
        generated: config.secrets.generated.filter((k) => kept.has(k)),
        rotatable: config.secrets.rotatable.filter((k) => kept.has(k)),
        bytes: Object.fromEntries(Object.entries(config.secrets.bytes).filter(([k]) => kept.has(k))),
        plain: config.secrets.plain.filter((k) => kept.has(k)),
      },
      smoke: { ...config.smoke, checks: config.smoke.checks.filter((c) => c.app === undefined || !off.has(c.app)) },
      // Its turbo tasks (`<app>#deploy`) only print the off line: nothing of them to check either.
      turbo: {
        ...config.turbo,
        requiredEnv: Object.fromEntries(Object.entries(config.turbo.requiredEnv).filter(([task]) => !ofOffApp(task))),
        sideEffectTasks: config.turbo.sideEffectTasks.filter((task) => !ofOffApp(task)),
      },
    },
  };
}
