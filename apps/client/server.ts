// Production HTTP server. build-server.mjs bundles this file, the Remix server build and every
// dependency into build/server.mjs, so `node build/server.mjs` needs no node_modules:
//   build/server.mjs   this server
//   build/client/      browser assets (served by sirv; /assets/* are content-hashed)
//   build/proto/       default GRPC_PROTO_ROOT
import * as http from "node:http";
import * as net from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequestHandler, type ServerBuild } from "@remix-run/node";
import { createRequestListener } from "@remix-run/node-fetch-server";
import sirv from "sirv";
import * as remixBuild from "virtual:remix/server-build";
import { EnvError, getEnv } from "./app/env.server";
import { closeBackend } from "./app/lib/backend.server";

const SHUTDOWN_GRACE_MS = 4_000;
const IDLE_GRACE_MS = 1_000;

/** Fetch Responses usually have no statusText; send the standard reason phrase ("503 Service Unavailable"). */
function withStatusText(response: Response): Response {
  const text = http.STATUS_CODES[response.status];
  if (response.statusText || !text) return response;
  return new Response(response.body, { status: response.status, statusText: text, headers: response.headers });
}

function main() {
  let env;
  try {
    env = getEnv();
  } catch (err) {
    console.error(err instanceof EnvError ? err.message : err);
    process.exit(1);
  }

  const here = dirname(fileURLToPath(import.meta.url));
  const assets = sirv(join(here, "client"), {
    etag: true,
    extensions: [],
    setHeaders(res, pathname) {
      res.setHeader("Cache-Control", pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "public, max-age=3600");
    },
  });

  const handleRequest = createRequestHandler(remixBuild as unknown as ServerBuild, env.nodeEnv);
  const remix = createRequestListener(async (request) => withStatusText(await handleRequest(request)), {
    onError(error) {
      console.error("request failed:", error);
    },
  });

  let stopping = false;
  const server = http.createServer((req, res) => {
    // While stopping, each answer ends its connection, so the client opens its next one to the release now serving.
    if (stopping) res.setHeader("Connection", "close");
    if (req.method === "GET" || req.method === "HEAD") assets(req, res, () => remix(req, res));
    else remix(req, res);
  });
  server.keepAliveTimeout = 65_000; // longer than typical proxy idle timeouts

  server.on("error", (err) => {
    console.error(`client cannot listen on ${env.host}:${env.port}: ${err.message}`);
    process.exit(1);
  });

  server.listen(env.port, env.host, () => {
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : env.port;
    const host = env.host.includes(":") ? `[${env.host}]` : env.host;
    console.log(`client release=${env.releaseId} listening on http://${host}:${port} backend=${env.backendGrpcAddr}`);
  });

  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      console.log(`client: ${signal} again, exiting now`);
      process.exit(1);
    }
    stopping = true;
    console.log(`client: ${signal} received, finishing in-flight requests`);
    const force = setTimeout(() => {
      console.log(`client: requests still open after ${SHUTDOWN_GRACE_MS} ms, closing them`);
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Stop accepting; the callback runs once every connection is gone. Closing an idle keep-alive
    // connection races with a request the client may be sending on it right then (and most
    // clients do not retry), so idle connections get IDLE_GRACE_MS to carry one more request,
    // answered with `Connection: close`; only then are the idle ones closed.
    // (http.Server#close would close idle connections at once: net.Server's close only stops listening.)
    let reapIdle: NodeJS.Timeout | undefined;
    const reap = setTimeout(() => {
      server.closeIdleConnections();
      reapIdle = setInterval(() => server.closeIdleConnections(), 100);
      reapIdle.unref();
    }, IDLE_GRACE_MS);
    reap.unref();
    net.Server.prototype.close.call(server, () => {
      clearTimeout(force);
      clearTimeout(reap);
      clearInterval(reapIdle);
      closeBackend();
      console.log("client: stopped");
      process.exit(0);
    });
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

main();
