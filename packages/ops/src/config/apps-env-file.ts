import { join } from "node:path";

/**
 * `infra/fly/apps.env` for production, `infra/fly/<env>.apps.env` for any other environment: the
 * per-environment values of the fly target, and the file that turns optional apps on.
 */
export function appsEnvPath(repoRoot: string, environment: string): string {
  return join(repoRoot, "infra", "fly", environment === "production" ? "apps.env" : `${environment}.apps.env`);
}
