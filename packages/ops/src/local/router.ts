import { DeployError } from "../errors.ts";
import type { LocalPaths } from "./paths.ts";
import { isAlive, portAnswers, readJson, spawnDetached, stopProcess, writeJsonAtomic } from "./process-utils.ts";
import { waitFor } from "./wait.ts";
import { stopGroup } from "./env-processes.ts";
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

export function readRoutes(paths: LocalPaths): RoutesFile {
  return readJson<RoutesFile>(paths.routesFile) ?? { generation: 0, routes: [] };
}

export function routerPid(paths: LocalPaths): number | undefined {
  const s = readJson<RouterState>(paths.routerState);
  return s && isAlive(s.pid) ? s.pid : undefined;
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
    pid = spawnDetached(new URL("./router-main.ts", import.meta.url), [paths.routesFile, paths.routerState], {
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
  const pid = readJson<RouterState>(paths.routerState)?.pid;
  const how = await stopProcess(pid, 5000);
  const left = await stopGroup(pid, [paths.routerDir], 5000);
  return how === "not-running" && left.length > 0 ? "stopped" : how;
}
