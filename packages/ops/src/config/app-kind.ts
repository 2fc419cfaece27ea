import type { AppConfig } from "./schema.ts";

/**
 * The two kinds of app ops.config.ts declares: a **built** app (our sources: `dir`, `artifacts`,
 * `command`, `portEnv`; a build task, a release folder on the local target, a remote build on fly)
 * and an **image-only** app (`image`: a prebuilt image deployed as it is, never built, not run on
 * the local target). `rules.ts` makes sure each app is exactly one of them.
 */

/** A built app's entry: the build fields are present (the config rules guarantee it). */
export type BuiltAppConfig = AppConfig & { dir: string; artifacts: string[]; command: string[]; portEnv: string };

/** Whether the app runs a prebuilt image instead of a build of ours. */
export function isImageOnly(cfg: AppConfig): boolean {
  return cfg.image !== undefined;
}

/**
 * The entry of a built app, typed with its build fields.
 * @throws {Error} (a bug: callers ask only for built apps) when `app` is image-only.
 */
export function builtApp(app: string, cfg: AppConfig): BuiltAppConfig {
  if (cfg.image !== undefined || !cfg.dir || !cfg.artifacts || !cfg.command || !cfg.portEnv) {
    throw new Error(`apps.${app} is not a built app (image-only apps have no build, release folder or local process)`);
  }
  return cfg as BuiltAppConfig;
}

/**
 * The built apps of `apps`, in `order` (the config's `deployOrder`), each with its build fields:
 * the apps whose outputs the pipeline cleans, snapshots and ships.
 */
export function builtApps(order: readonly string[], apps: Readonly<Record<string, AppConfig>>): { app: string; built: BuiltAppConfig }[] {
  return order.flatMap((app) => (isImageOnly(apps[app]!) ? [] : [{ app, built: builtApp(app, apps[app]!) }]));
}

/** The one line every step prints for an app the local target cannot run. */
export function notRunLocallyLine(app: string): string {
  return `${app}: image-only app, not run on the local target`;
}
