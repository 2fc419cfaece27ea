import type { OpsConfig } from "../config/schema.ts";
import { localPortVar } from "../config/app-keys.ts";
import { fetchBlockedPort, type OpsEnv } from "../env.ts";
import { ConfigError } from "../errors.ts";

/** Where an app's stable loopback port came from: its variable, or its `localPort` in ops.config.ts. */
export interface LocalAppPort {
  port: number;
  /** `OPS_LOCAL_<APP>_PORT`: the variable that overrides it (named in messages either way). */
  envVar: string;
  source: "environment" | "config";
}

/**
 * The stable loopback port of `app` on the local target: `OPS_LOCAL_<APP>_PORT` if set, else the
 * app's `localPort` in ops.config.ts. An app with an http health check may not sit on a port
 * fetch() refuses (the WHATWG "bad port" list), or the smoke checks could never reach it.
 * @throws {ConfigError} when the app has no port, or an http app's port is one fetch() refuses.
 */
export function localAppPort(config: OpsConfig, env: OpsEnv, app: string): LocalAppPort {
  const envVar = localPortVar(app);
  const cfg = config.apps[app];
  const fromEnv = env.localPorts.apps[envVar];
  const port = fromEnv ?? cfg?.localPort;
  if (port === undefined) {
    throw new ConfigError(`app "${app}" has no local port: apps.${app}.localPort is not set in ops.config.ts and ${envVar} is unset`, {
      where: `ops.config.ts apps.${app}.localPort`,
      fix: `Give the app localPort: <port> in ops.config.ts (or set ${envVar}).`,
    });
  }
  if (cfg?.health.kind === "http") {
    const blocked = fetchBlockedPort(fromEnv !== undefined ? envVar : `apps.${app}.localPort`, port);
    if (blocked)
      throw new ConfigError(blocked, {
        where: fromEnv !== undefined ? envVar : `ops.config.ts apps.${app}.localPort`,
        fix: fromEnv !== undefined ? "Fix or unset the variable, then run again." : "Choose another localPort in ops.config.ts.",
      });
  }
  return { port, envVar, source: fromEnv !== undefined ? "environment" : "config" };
}
