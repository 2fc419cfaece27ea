/**
 * The Dockerfile's side of an app's port contract (port-contract.ts, from ops.config.ts; the
 * fly.toml checks hold the other side): the port and bind address the final image listens on,
 * with the app's fly.toml `[env]` winning over the image's ENV, against `[http_service]
 * internal_port` (public apps) or the `[checks]` tcp ports and the IPv6 any address (internal apps).
 */
import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { at, chain, type Findings, kw, lineOf, parsePort, type Stage, stageEnv } from "./dockerfile-model.ts";
import type { BuiltPortContract } from "./port-contract.ts";

/** What the Dockerfile checks read from the app's fly.toml. */
export interface FlyFacts {
  where: string;
  env: Record<string, string>;
  internalPort: number | undefined;
  tcpCheckPorts: number[];
}

export function readFlyToml(ctx: Findings, path: string | undefined): FlyFacts | undefined {
  if (path === undefined) return undefined;
  const rel = relative(ctx.contextDir, resolve(path));
  const where = rel.startsWith("..") ? path : rel;
  try {
    const doc = parseToml(readFileSync(path, "utf8")) as Record<string, unknown>;
    const table = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
    const env = Object.fromEntries(Object.entries(table(doc.env)).map(([k, v]) => [k, String(v)]));
    const port = table(doc.http_service).internal_port;
    const tcpCheckPorts = Object.values(table(doc.checks))
      .map(table)
      .filter((c) => c.type === "tcp" && Number.isInteger(c.port))
      .map((c) => c.port as number);
    return { where, env, internalPort: Number.isInteger(port) ? (port as number) : undefined, tcpCheckPorts };
  } catch (err) {
    ctx.results.push({
      id: "dockerfile.fly-toml",
      status: "warn",
      message: `cannot read ${where} (${(err as Error).message.split("\n")[0]}); the image's ports were not compared with it`,
      where,
      fix: `fix ${where} (the fly.toml checks say how)`,
    });
    return undefined;
  }
}

function exposedPorts(stages: Stage[], final: Stage): { ports: number[]; line: number } | undefined {
  const exposes = chain(stages, final)
    .flatMap((s) => s.instructions)
    .filter((i) => kw(i) === "EXPOSE");
  if (exposes.length === 0) return undefined;
  const ports = exposes
    .flatMap((i) => (i.getArgumentsContent() ?? "").trim().split(/\s+/))
    .map((p) => parsePort(p.replace(/\/(tcp|udp)$/i, "")))
    .filter((p): p is number => p !== undefined);
  return { ports, line: lineOf(exposes.at(-1)!) };
}

/** Ports of a public app (Fly's proxy, [http_service]). */
export function checkPublicPorts(ctx: Findings, stages: Stage[], final: Stage, fly: FlyFacts | undefined, c: BuiltPortContract): void {
  const env = stageEnv(stages, final);

  const imagePort = env.get(c.portEnv);
  const listenPort = parsePort(fly?.env[c.portEnv]) ?? parsePort(imagePort?.value) ?? c.port;
  if (fly?.internalPort !== undefined && fly.env[c.portEnv] === undefined && listenPort !== fly.internalPort) {
    ctx.results.push({
      id: `dockerfile.${c.app}.port`,
      status: "fail",
      message: `the image sets ${c.portEnv}=${imagePort?.value ?? c.port} and ${fly.where} does not override it, but [http_service] internal_port = ${fly.internalPort}: Fly's proxy finds nothing listening`,
      where: at(ctx, imagePort?.line ?? final.line),
      fix: `set ${c.portEnv} = "${fly.internalPort}" in ${fly.where} [env], or ENV ${c.portEnv}=${fly.internalPort} in the final stage`,
    });
  }
  checkExposed(ctx, stages, final, c.app, listenPort);
}

/** Ports of an internal app (no services; reached over 6PN as <fly-app>.internal). */
export function checkInternalPorts(ctx: Findings, stages: Stage[], final: Stage, fly: FlyFacts | undefined, c: BuiltPortContract): void {
  const env = stageEnv(stages, final);
  const imageHost = c.hostEnv === undefined ? undefined : env.get(c.hostEnv);
  if (c.hostEnv !== undefined && fly?.env[c.hostEnv] === undefined && imageHost !== undefined && imageHost.value.trim() !== "::") {
    ctx.results.push({
      id: `dockerfile.${c.app}.host`,
      status: "fail",
      message: `the image sets ${c.hostEnv}=${imageHost.value}${fly ? ` and ${fly.where} does not override it` : ""}: only "::" is reachable over Fly's IPv6 private network (<app>.internal)`,
      where: at(ctx, imageHost.line),
      fix: `set ENV ${c.hostEnv}=:: in the final stage (or remove it if the ${c.app} defaults to ::)`,
    });
  }
  const imagePort = env.get(c.portEnv);
  const grpcPort = parsePort(fly?.env[c.portEnv]) ?? parsePort(imagePort?.value) ?? c.port;
  if (fly && fly.env[c.portEnv] === undefined && fly.tcpCheckPorts.length > 0 && !fly.tcpCheckPorts.includes(grpcPort)) {
    ctx.results.push({
      id: `dockerfile.${c.app}.port`,
      status: "fail",
      message: `the image listens on ${c.portEnv}=${grpcPort} and ${fly.where} does not override it, but its tcp checks watch port ${fly.tcpCheckPorts.join(", ")}: the checks fail and the deploy never turns healthy`,
      where: at(ctx, imagePort?.line ?? final.line),
      fix: `set ${c.portEnv} = "${fly.tcpCheckPorts[0]}" in ${fly.where} [env], or make the image and the [checks] port agree`,
    });
  }
  checkExposed(ctx, stages, final, c.app, grpcPort);
}

/** A warning when the final stage's EXPOSE does not name the port the app listens on. */
function checkExposed(ctx: Findings, stages: Stage[], final: Stage, app: string, listenPort: number): void {
  const exposed = exposedPorts(stages, final);
  if (!exposed || exposed.ports.includes(listenPort)) return;
  ctx.results.push({
    id: `dockerfile.${app}.port`,
    status: "warn",
    message: `EXPOSE ${exposed.ports.join(" ")} but the ${app} listens on ${listenPort}: the image documents the wrong port`,
    where: at(ctx, exposed.line),
    fix: `EXPOSE ${listenPort}`,
  });
}
