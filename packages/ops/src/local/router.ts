import { DeployError } from "../errors.ts";
import type { LocalPaths } from "./paths.ts";
import { isAlive, portAnswers, readJson, spawnDetached, stopProcess, writeJsonAtomic } from "./process-utils.ts";
import { waitFor } from "./wait.ts";
import { processesUnder, stopGroup } from "./env-processes.ts";
import { z } from "zod";
import type { Route, RoutesFile } from "./router-main.ts";
import { localPortVar } from "../config/app-keys.ts";
import { describePortHolder } from "./port-holder.ts";

interface RouterState {
  pid: number;
  generation: number;
  error?: string;
  /** The route the router could not listen for, when that was the error. */
  failed?: { name: string; port: number };
}

const upstreamSchema = z.object({ host: z.string(), port: z.number().int() }).nullable();
const routesSchema = z.object({
  generation: z.number().int(),
  routes: z.array(z.object({ name: z.string(), listenHost: z.string(), listenPort: z.number().int(), upstream: upstreamSchema })),
});
const stateSchema = z
  .object({
    pid: z.number().int(),
    generation: z.number().int(),
    error: z.string().optional(),
    failed: z.object({ name: z.string(), port: z.number().int() }).optional(),
    listening: z.array(z.object({ name: z.string(), port: z.number().int(), upstream: upstreamSchema })).optional(),
  })
  .passthrough();

/** The router's own state file (what it applied and listens for), validated; undefined when missing or damaged. */
function readRouterState(
  paths: LocalPaths,
): (RouterState & { listening?: { name: string; port: number; upstream: Route["upstream"] }[] }) | undefined {
  const parsed = stateSchema.safeParse(readJson<unknown>(paths.routerState));
  return parsed.success ? parsed.data : undefined;
}

/**
 * The routes file, validated. A damaged one is rebuilt from what the router says it listens for
 * (its state file), so a deploy of one app never drops another app's route.
 */
export function readRoutes(paths: LocalPaths): RoutesFile {
  const parsed = routesSchema.safeParse(readJson<unknown>(paths.routesFile));
  if (parsed.success) return parsed.data;
  const state = readRouterState(paths);
  return {
    generation: state?.generation ?? 0,
    routes: (state?.listening ?? []).map((l) => ({ name: l.name, listenHost: "127.0.0.1", listenPort: l.port, upstream: l.upstream })),
  };
}

/**
 * The running router's pid: from its state file, or, when that file is damaged or lost, the
 * process that leads its own group in the router folder (a router started there).
 */
export function routerPid(paths: LocalPaths): number | undefined {
  const s = readRouterState(paths);
  if (s) return isAlive(s.pid) ? s.pid : undefined;
  return processesUnder([paths.routerDir]).find((p) => p.pid === p.pgid)?.pid;
}

async function waitForGeneration(paths: LocalPaths, pid: number, generation: number, route: Route): Promise<void> {
  // The router writes its state after applying routes.json; read it with a short backoff.
  const seen = await waitFor(async () => {
    const s = readJson<RouterState>(paths.routerState);
    const applied = s?.pid === pid && s.generation === generation;
    return { ok: applied || (s?.pid === pid && !!s.error) || !isAlive(pid), applied };
  }, 10_000);
  if (seen.applied) return;
  const s = readJson<RouterState>(paths.routerState);
  const inUse = /EADDRINUSE/.test(s?.error ?? "");
  // The port that failed may be another app's (the router re-listens for every route when it starts).
  const blamed = s?.failed ?? { name: route.name, port: route.listenPort };
  throw new DeployError(
    inUse
      ? `the local router could not serve ${blamed.name} on ${route.listenHost}:${blamed.port}: the port is used by another program${describePortHolder(blamed.port)}`
      : `the local router could not serve ${route.name} on ${route.listenHost}:${route.listenPort}${s?.error ? `: ${s.error}` : " (no answer within 10 s)"}`,
    {
      where: inUse ? localPortVar(blamed.name) : paths.routerLog,
      fix: inUse
        ? `Stop that program, or set ${localPortVar(blamed.name)} to a free port. What served before keeps serving where it was.`
        : `See ${paths.routerLog}.`,
    },
  );
}

/**
 * Points `route.name` at a new upstream (or adds the route), then makes the router apply it:
 * starts the router if it is not running, else sends SIGHUP. Returns once the router confirms.
 * @throws {DeployError} when a public port is taken or the router does not confirm in 10 s.
 */
export async function setRoute(paths: LocalPaths, route: Route, baseEnv: Record<string, string>): Promise<void> {
  const file = readRoutes(paths);
  const routes = file.routes.filter((r) => r.name !== route.name);
  routes.push(route);
  const next: RoutesFile = { generation: file.generation + 1, routes };
  let pid = routerPid(paths);
  // A router that starts listens for every route at once: check each port it would take.
  for (const r of pid ? [] : routes) {
    if (await portAnswers(r.listenHost, r.listenPort)) {
      throw new DeployError(
        `port ${r.listenPort} (${localPortVar(r.name)}) is already used by another program${describePortHolder(r.listenPort)}, so ${r.name} cannot be served there`,
        {
          where: `${r.listenHost}:${r.listenPort}`,
          fix: `Stop that program, or choose another port with ${localPortVar(r.name)}.`,
        },
      );
    }
  }
  writeJsonAtomic(paths.routesFile, next);
  if (pid) {
    process.kill(pid, "SIGHUP");
  } else {
    pid = spawnDetached("router-main", [paths.routesFile, paths.routerState], {
      env: baseEnv,
      logFile: paths.routerLog,
      cwd: paths.routerDir,
    });
  }
  try {
    await waitForGeneration(paths, pid, next.generation, route);
  } catch (err) {
    // The router kept what it had; make the file say so again, so a later reload does not retry this route.
    writeJsonAtomic(paths.routesFile, { ...file, generation: next.generation + 1 });
    if (routerPid(paths)) process.kill(routerPid(paths)!, "SIGHUP");
    throw err;
  }
}

/** Stops the router (and anything left in its process group). */
export async function stopRouter(paths: LocalPaths): Promise<"stopped" | "killed" | "not-running"> {
  const pid = routerPid(paths) ?? readRouterState(paths)?.pid;
  const how = await stopProcess(pid, 5000);
  const left = await stopGroup(pid, [paths.routerDir], 5000);
  return how === "not-running" && left.length > 0 ? "stopped" : how;
}

/** Why the router's files need a repair while it runs (a damaged state or routes file), or undefined. */
export function routerFilesDamaged(paths: LocalPaths): string | undefined {
  const pid = routerPid(paths);
  if (pid === undefined) return undefined;
  const damaged = [
    ...(readRouterState(paths) ? [] : [paths.routerState]),
    ...(routesSchema.safeParse(readJson<unknown>(paths.routesFile)).success ? [] : [paths.routesFile]),
  ];
  return damaged.length
    ? `${damaged.join(" and ")} ${damaged.length > 1 ? "are" : "is"} damaged while the router (pid ${pid}) runs`
    : undefined;
}

/**
 * Rewrites the router's damaged files from the router itself: SIGHUP makes it write its state
 * (what it listens for, and where each route goes) again; the routes file is then written from that.
 */
export async function repairRouterFiles(paths: LocalPaths): Promise<void> {
  const pid = routerPid(paths);
  if (pid === undefined) return;
  if (!readRouterState(paths)) {
    process.kill(pid, "SIGHUP");
    await waitFor(async () => ({ ok: readRouterState(paths) !== undefined || !isAlive(pid) }), 10_000);
  }
  if (routesSchema.safeParse(readJson<unknown>(paths.routesFile)).success) return;
  const routes = readRoutes(paths);
  writeJsonAtomic(paths.routesFile, routes);
  // Applied once more, so the state no longer carries the error the damaged file caused.
  process.kill(pid, "SIGHUP");
  await waitFor(async () => {
    const s = readRouterState(paths);
    return { ok: (s?.generation === routes.generation && !s.error) || !isAlive(pid) };
  }, 10_000);
}
