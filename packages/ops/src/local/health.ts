import { join } from "node:path";
// Types only at load time: gRPC is imported when a health check runs (`ops:status` with nothing running loads none of it).
import type * as grpc from "@grpc/grpc-js";

/** grpc.health.v1 status names, plus UNREACHABLE when no answer came. */
export type GrpcHealth = "SERVING" | "NOT_SERVING" | "UNKNOWN" | "SERVICE_UNKNOWN" | "UNREACHABLE";

type HealthClient = grpc.Client & {
  Check(req: { service: string }, opts: { deadline: Date }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};

const healthCtorCache = new Map<string, grpc.ServiceClientConstructor>();

async function healthCtor(protoRoot: string): Promise<{ Ctor: grpc.ServiceClientConstructor; insecure: () => grpc.ChannelCredentials }> {
  const [grpc, protoLoader] = await Promise.all([import("@grpc/grpc-js"), import("@grpc/proto-loader")]);
  let ctor = healthCtorCache.get(protoRoot);
  if (!ctor) {
    const def = protoLoader.loadSync(join(protoRoot, "grpc/health/v1/health.proto"), { includeDirs: [protoRoot], enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    ctor = pkg.grpc.health.v1.Health;
    healthCtorCache.set(protoRoot, ctor);
  }
  return { Ctor: ctor, insecure: () => grpc.credentials.createInsecure() };
}

/**
 * One `grpc.health.v1.Health/Check` call against `address` (host:port, plaintext).
 * @returns the status and, when UNREACHABLE, the reason. Never throws.
 */
export async function checkGrpcHealth(
  address: string,
  opts: { protoRoot: string; service?: string; timeoutMs?: number },
): Promise<{ status: GrpcHealth; reason?: string }> {
  const { Ctor, insecure } = await healthCtor(opts.protoRoot);
  const client = new Ctor(address, insecure()) as unknown as HealthClient;
  try {
    return await new Promise((resolve) => {
      client.Check({ service: opts.service ?? "" }, { deadline: new Date(Date.now() + (opts.timeoutMs ?? 2000)) }, (err, res) => {
        if (err) resolve({ status: "UNREACHABLE", reason: err.details || err.message });
        else resolve({ status: (res?.status ?? "UNKNOWN") as GrpcHealth });
      });
    });
  } finally {
    client.close();
  }
}

/** What the `/healthz` JSON says about one app: its release, and for an app it asks over gRPC, its health status and schema version. */
export interface HealthzAppStatus {
  release: string | null;
  /** gRPC health status (`SERVING`, `NOT_SERVING`...) of an app the public app calls. */
  status?: string;
  /** Migrations the app's database has, as it reports them. */
  schemaVersion?: number | null;
  databaseReachable?: boolean | null;
  error?: string;
}

/**
 * The `/healthz` JSON of an app with an http health check: one entry per app, keyed by its name in
 * ops.config.ts (this repo's client serves its own and the backend's: apps/client/app/routes/healthz.ts).
 */
export type HealthzBody = { ok?: boolean; checkedAt?: string } & { [app: string]: HealthzAppStatus | boolean | string | undefined };

/** The entry of `app` in a `/healthz` body, if it has one. */
export function healthzApp(body: HealthzBody, app: string): HealthzAppStatus | undefined {
  const v = body[app];
  return typeof v === "object" && v !== null ? v : undefined;
}

/**
 * One GET of `url` with a timeout. Never throws: a network failure comes back as `status: 0`.
 */
export async function httpGet(url: string, timeoutMs: number): Promise<{ status: number; body: string; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { "user-agent": "deploy-ops-smoke" } });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: 0, body: "", error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}
