/**
 * Entry of the local router: `router-main.ts <routes.json> <state.json>`. Holds each app's stable
 * loopback port and forwards TCP connections to the release currently serving (a small
 * kamal-proxy). On SIGHUP it re-reads routes.json, so a deploy switches traffic only after the new
 * release is healthy; connections already open keep their old upstream until it stops.
 */
import { readFileSync } from "node:fs";
import { createServer, connect, type Server } from "node:net";
import { writeJsonAtomic } from "./process-utils.ts";
import { holdExitSignal } from "./exit-signal.ts";

export interface Route {
  name: string;
  listenHost: string;
  listenPort: number;
  upstream: { host: string; port: number } | null;
}
export interface RoutesFile {
  generation: number;
  routes: Route[];
}

const [routesFile, stateFile] = process.argv.slice(2);
if (!routesFile || !stateFile) {
  console.error("usage: router-main.ts <routes.json> <state.json>");
  process.exit(2);
}
// A stopper in another process learns of our exit from this socket closing (see exit-signal.ts).
void holdExitSignal();

const listeners = new Map<string, { server: Server; route: Route }>();
let generation = -1;
const log = (msg: string) => console.log(`[router ${new Date().toISOString()}] ${msg}`);

/** A route the router could not listen for: which one, so the caller blames the right port. */
class ListenError extends Error {
  constructor(
    readonly route: Route,
    cause: Error,
  ) {
    super(`cannot listen on ${route.listenHost}:${route.listenPort} for ${route.name}: ${cause.message}`);
  }
}

function writeState(error?: Error) {
  writeJsonAtomic(stateFile!, {
    pid: process.pid,
    generation,
    listening: [...listeners.values()].map((l) => ({ name: l.route.name, port: l.route.listenPort, upstream: l.route.upstream })),
    ...(error ? { error: error.message } : {}),
    ...(error instanceof ListenError ? { failed: { name: error.route.name, port: error.route.listenPort } } : {}),
  });
}

/** Opens a listener for `route`; the caller registers it once it listens (so a failure changes nothing). */
function listen(route: Route): Promise<{ server: Server; route: Route }> {
  return new Promise((resolve, reject) => {
    const entry = { server: createServer(), route };
    entry.server.on("connection", (socket) => {
      const up = entry.route.upstream;
      if (!up) {
        socket.destroy();
        return;
      }
      const upstream = connect({ host: up.host, port: up.port });
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
      socket.on("close", () => upstream.destroy());
      upstream.on("close", () => socket.destroy());
    });
    entry.server.once("error", (err) => reject(new ListenError(route, err)));
    entry.server.listen(route.listenPort, route.listenHost, () => resolve(entry));
  });
}

async function apply(): Promise<void> {
  const file = JSON.parse(readFileSync(routesFile!, "utf8")) as RoutesFile;
  for (const route of file.routes) {
    const existing = listeners.get(route.name);
    if (existing && existing.route.listenPort === route.listenPort && existing.route.listenHost === route.listenHost) {
      existing.route = route;
      continue;
    }
    const fresh = await listen(route);
    existing?.server.close();
    listeners.set(route.name, fresh);
    log(`listening on ${route.listenHost}:${route.listenPort} for ${route.name}`);
  }
  for (const [name, entry] of listeners) {
    if (!file.routes.some((r) => r.name === name)) {
      entry.server.close();
      listeners.delete(name);
    }
  }
  generation = file.generation;
  for (const r of file.routes) log(`${r.name} -> ${r.upstream ? `${r.upstream.host}:${r.upstream.port}` : "(none)"}`);
  writeState();
}

let applying = Promise.resolve();
const reload = () => {
  applying = applying.then(apply).catch((err: Error) => {
    log(`could not apply routes: ${err.message}`);
    writeState(err);
  });
};
process.on("SIGHUP", reload);
const shutdown = () => {
  for (const { server } of listeners.values()) server.close();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
apply().catch((err: Error) => {
  log(`could not start: ${err.message}`);
  writeState(err);
  process.exit(1);
});
