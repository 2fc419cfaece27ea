import type { OpsContext } from "../context.ts";
import { loadFlyAppsEnvFor } from "./apps-env.ts";
import { createFlyctl } from "./flyctl.ts";
import { FlyProvider } from "./provider.ts";

/** The fly target's pieces for a step: per-environment values, flyctl, the provider. */
export function flyTarget(ctx: OpsContext) {
  const appsEnv = loadFlyAppsEnvFor(ctx.config, ctx.env.repoRoot, ctx.env.environment);
  const flyctl = createFlyctl(ctx.runner, ctx.env, ctx.redact, (message) => ctx.reporter.emit({ kind: "info", message }));
  const provider = new FlyProvider(ctx.config, appsEnv, flyctl, (message) => ctx.reporter.emit({ kind: "info", message }));
  return { appsEnv, flyctl, provider };
}
