import type { OpsContext } from "../context.ts";
import { ConfigError } from "../errors.ts";
import { createNeonClient, type NeonClient } from "../neon/client.ts";
import type { FlyAppsEnv } from "./apps-env.ts";

/**
 * The Neon API client of the fly target (`NEON_API_KEY`; project, branch and API host from apps.env).
 * @throws {ConfigError} when apps.env has no Neon project/branch or NEON_API_KEY is unset.
 */
export function neonFor(ctx: OpsContext, appsEnv: FlyAppsEnv): { client: NeonClient; projectId: string; branchId: string } {
  if (!appsEnv.neon) {
    throw new ConfigError(`${appsEnv.file}: NEON_PROJECT_ID and NEON_BRANCH_ID are not set`, {
      where: appsEnv.file,
      fix: "Set them to the production project and branch (Neon console → Branches).",
    });
  }
  if (!ctx.env.neonApiKey)
    throw new ConfigError("NEON_API_KEY is not set", {
      fix: "Create an API key in the Neon console and export NEON_API_KEY (a repository secret in CI).",
    });
  ctx.addSecret(ctx.env.neonApiKey);
  const client = createNeonClient({
    apiKey: ctx.env.neonApiKey,
    baseUrl: appsEnv.neon.apiHost,
    onRetry: (info) =>
      ctx.reporter.emit({
        kind: "retry",
        what: `Neon ${info.what}`,
        attempt: info.attempt,
        delayMs: info.delayMs,
        reason: "locked or rate-limited",
      }),
  });
  return { client, projectId: appsEnv.neon.projectId, branchId: appsEnv.neon.branchId };
}
