import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { OpsContext } from "../context.ts";
import { localPaths } from "../local/paths.ts";
import { runningPostgres } from "../local/postgres.ts";
import { portAnswers, readJson } from "../local/process-utils.ts";
import { routerPid } from "../local/router.ts";
import { resolveLocalSecrets } from "../secrets/local-source.ts";
import type { CheckResult } from "./types.ts";
import { SecretsError } from "../errors.ts";
import { localAppPort } from "../local/ports.ts";

/** The loopback ports of the local target are free, or held by our own router/Postgres. */
export async function checkLocalPorts(ctx: OpsContext): Promise<CheckResult[]> {
  const paths = localPaths(ctx.env.stateDir, ctx.env.environment);
  const ours = { router: routerPid(paths) !== undefined, postgres: runningPostgres(paths) !== undefined };
  const runHere = ctx.config.deployOrder.filter((app) => !ctx.target.notRunHere?.(app));
  const wanted: { name: string; port: number; envVar: string; owned: boolean }[] = runHere.map((app) => {
    const { port, envVar } = localAppPort(ctx.config, ctx.env, app);
    return { name: app, port, envVar, owned: ours.router };
  });
  if (!ctx.env.databaseUrl)
    wanted.push({ name: "postgres", port: ctx.env.localPorts.postgres, envVar: "OPS_LOCAL_PG_PORT", owned: ours.postgres });
  const results = await Promise.all(
    wanted.map(async (w): Promise<CheckResult> => {
      if (w.owned || !(await portAnswers("127.0.0.1", w.port))) {
        return {
          id: `ports.${w.name}`,
          status: "pass",
          message: `127.0.0.1:${w.port} is ${w.owned ? "served by this environment" : "free"}`,
        };
      }
      const other = otherEnvironmentOnPort(ctx, w.port);
      return {
        id: `ports.${w.name}`,
        status: "fail",
        message: other
          ? `127.0.0.1:${w.port} is used by the local environment "${other}" of this checkout`
          : `127.0.0.1:${w.port} is used by another program`,
        where: w.envVar,
        fix: other
          ? `Stop it (OPS_ENV=${other} pnpm ops:local down) or give this environment other ports with ${w.envVar}.`
          : `Stop that program or set ${w.envVar} to a free port.`,
      };
    }),
  );
  return results;
}

/** Which other local environment of this state folder listens on `port` (router or Postgres), if any. */
function otherEnvironmentOnPort(ctx: OpsContext, port: number): string | undefined {
  const root = join(ctx.env.stateDir, "local");
  if (!existsSync(root)) return undefined;
  for (const env of readdirSync(root).filter((e) => e !== ctx.env.environment)) {
    const paths = localPaths(ctx.env.stateDir, env);
    const routes = readJson<{ listening?: { port: number }[] }>(paths.routerState);
    if (routerPid(paths) && routes?.listening?.some((l) => l.port === port)) return env;
    const pg = runningPostgres(paths);
    if (pg?.port === port) return env;
  }
  return undefined;
}

/** Every declared secret has a value (or will be generated on the first real run). */
export function checkLocalSecrets(ctx: OpsContext): CheckResult[] {
  try {
    const r = resolveLocalSecrets(ctx.config, ctx.env, { create: false });
    const out: CheckResult[] = r.warnings.map((w) => ({
      id: "secrets.file",
      status: "warn" as const,
      message: w,
      fix: "See the message.",
    }));
    const declared = new Set(Object.values(ctx.config.apps).flatMap((a) => a.secrets));
    const missing = [...declared].filter((k) => !r.values.has(k));
    const sources = [...new Set(r.sources.values())].join(", ") || "none yet";
    out.push({
      id: "secrets",
      status: "pass",
      message: missing.length
        ? `${r.values.size} of ${declared.size} secrets known (${sources}); ${missing.join(", ")} will be generated`
        : `${declared.size} secrets known (${sources})`,
    });
    return out;
  } catch (err) {
    if (err instanceof SecretsError)
      return [{ id: "secrets", status: "fail", message: err.message, ...(err.where ? { where: err.where } : {}), fix: err.fix ?? "" }];
    throw err;
  }
}

/** The build outputs the local deploy copies exist, or turbo will build them first. */
export function describeLocalLayout(ctx: OpsContext): CheckResult {
  const paths = localPaths(ctx.env.stateDir, ctx.env.environment);
  return {
    id: "state",
    status: "pass",
    message: `local state in ${paths.root}; repo ${ctx.env.repoRoot}; protos in ${join(ctx.env.repoRoot, "proto")}`,
  };
}
