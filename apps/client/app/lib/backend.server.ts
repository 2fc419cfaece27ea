// The client's only way to the Go backend: one lazily created gRPC channel shared by the Health
// and StatusService clients, protos loaded at run time from GRPC_PROTO_ROOT, a deadline on every
// call. checkBackend() never throws: a backend that cannot be asked is reported as UNREACHABLE.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { getEnv } from "../env.server";

export const HEALTH_STATUSES = ["SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN"] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];
export type BackendStatus = HealthStatus | "UNREACHABLE";

export interface BackendReport {
  /** Health Check of service "" (the whole server), or UNREACHABLE when the backend could not be asked. */
  status: BackendStatus;
  /** RELEASE_ID of the backend process; null when GetStatus failed. */
  release: string | null;
  schemaVersion: number | null;
  databaseReachable: boolean | null;
  /** Why the backend's last database probe failed; null when reachable or unknown. */
  databaseError: string | null;
  startedAt: string | null;
  releasesSeen: number | null;
  /** Short reason the backend could not be asked (never contains the auth token). */
  error?: string;
  /** Target the client dials (BACKEND_GRPC_ADDR). */
  address: string;
  latencyMs: number;
  checkedAt: string;
}

export interface BackendOptions {
  address: string;
  protoRoot: string;
  timeoutMs: number;
  /** Sent as `authorization: Bearer <token>` on GetStatus. */
  authToken?: string | undefined;
  /** Shown to the backend as the user agent. */
  clientRelease?: string;
}

export interface Backend {
  check(): Promise<BackendReport>;
  close(): void;
}

type UnaryCallback<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, callback: UnaryCallback<Res>) => grpc.ClientUnaryCall;

interface HealthClient extends grpc.Client {
  Check: Unary<{ service: string }, { status: string }>;
}

interface StatusClient extends grpc.Client {
  GetStatus: Unary<Record<string, never>, RawStatus>;
}

/** GetStatusResponse as proto-loader decodes it (camelCase, int64 as Number, defaults filled in). */
interface RawStatus {
  releaseId: string;
  schemaVersion: number;
  databaseReachable: boolean;
  databaseError: string;
  startedAt: string;
  releasesSeen: number;
}

const PROTO_FILES = ["grpc/health/v1/health.proto", "deployops/status/v1/status.proto"];

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

const MAX_ERROR_LENGTH = 200;

/** Pause before the one retry of a check that met a backend going away. */
const RETRY_AFTER_MS = 100;

/** NOT_SERVING, or the call failed UNAVAILABLE: what a check sees while the backend it used is being stopped. */
function isSwitchSymptom(result: PromiseSettledResult<{ status: string }>): boolean {
  if (result.status === "fulfilled") return result.value.status === "NOT_SERVING";
  const err = result.reason as { code?: number } | undefined;
  return err?.code === grpc.status.UNAVAILABLE;
}

function loadServices(protoRoot: string) {
  const definition = protoLoader.loadSync(PROTO_FILES, { ...LOADER_OPTIONS, includeDirs: [protoRoot] });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    deployops: { status: { v1: { StatusService: grpc.ServiceClientConstructor } } };
  };
  return {
    Health: loaded.grpc.health.v1.Health,
    StatusService: loaded.deployops.status.v1.StatusService,
  };
}

function unary<Req, Res>(method: Unary<Req, Res>, client: grpc.Client, req: Req, metadata: grpc.Metadata, deadline: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, metadata, { deadline }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}

/** A one-line reason, e.g. `UNAVAILABLE: No connection established...`. */
export function describeError(err: unknown): string {
  let text: string;
  if (err && typeof err === "object" && "code" in err && typeof err.code === "number" && "details" in err) {
    const name = grpc.status[err.code] ?? `code ${err.code}`;
    text = `${name}: ${String(err.details)}`;
  } else if (err instanceof Error) {
    text = err.message;
  } else {
    text = String(err);
  }
  // grpc-js appends an empty "Resolution note:" to connection errors; drop it.
  text = text
    .replace(/\s+/g, " ")
    .replace(/\s*Resolution note:\s*$/, "")
    .trim();
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}

function isHealthStatus(value: unknown): value is HealthStatus {
  return typeof value === "string" && (HEALTH_STATUSES as readonly string[]).includes(value);
}

/** Create a backend connection. The channel connects on first use. */
export function createBackend(options: BackendOptions): Backend {
  const { Health, StatusService } = loadServices(options.protoRoot);
  const credentials = grpc.credentials.createInsecure();
  const channel = new grpc.Channel(options.address, credentials, {
    // Reconnect quickly after a backend restart (deploys): the default backoff grows to 120 s.
    "grpc.initial_reconnect_backoff_ms": 250,
    "grpc.max_reconnect_backoff_ms": 5_000,
    // No service config in DNS TXT records here; skip the lookup.
    "grpc.service_config_disable_resolution": 1,
    "grpc.primary_user_agent": `deployops-client/${options.clientRelease ?? "dev"}`,
  });
  const clientOptions = { channelOverride: channel };
  const health = new Health(options.address, credentials, clientOptions) as unknown as HealthClient;
  const status = new StatusService(options.address, credentials, clientOptions) as unknown as StatusClient;

  const statusMetadata = () => {
    const md = new grpc.Metadata();
    if (options.authToken) md.set("authorization", `Bearer ${options.authToken}`);
    return md;
  };

  let closed = false;

  return {
    async check(): Promise<BackendReport> {
      const started = Date.now();
      const base = {
        address: options.address,
        checkedAt: new Date(started).toISOString(),
      };
      if (closed) {
        return { ...emptyReport("client is shutting down"), ...base, latencyMs: 0 };
      }
      const deadline = started + options.timeoutMs;
      const ask = () =>
        Promise.allSettled([
          unary(health.Check, health, { service: "" }, new grpc.Metadata(), deadline),
          unary(status.GetStatus, status, {}, statusMetadata(), deadline),
        ]);
      let [healthResult, statusResult] = await ask();
      // A backend being replaced answers NOT_SERVING, then sends GOAWAY (Go's GracefulStop), or its
      // connection just closes (UNAVAILABLE). Asked once more after a moment, the channel's next
      // connection reaches the release that serves now. (A backend that is really down still fails
      // fast: no waitForReady.)
      if (isSwitchSymptom(healthResult) && Date.now() + RETRY_AFTER_MS < deadline) {
        await new Promise((r) => setTimeout(r, RETRY_AFTER_MS));
        [healthResult, statusResult] = await ask();
      }
      const latencyMs = Date.now() - started;

      const errors: string[] = [];
      let backendStatus: BackendStatus;
      if (healthResult.status === "fulfilled") {
        const s = healthResult.value.status;
        backendStatus = isHealthStatus(s) ? s : "UNKNOWN";
      } else {
        backendStatus = "UNREACHABLE";
        errors.push(describeError(healthResult.reason));
      }

      const report: BackendReport = { ...emptyReport(), ...base, status: backendStatus, latencyMs };
      if (statusResult.status === "fulfilled") {
        const s = statusResult.value;
        report.release = s.releaseId;
        report.schemaVersion = Number(s.schemaVersion);
        report.databaseReachable = s.databaseReachable;
        report.databaseError = s.databaseError || null;
        report.startedAt = s.startedAt || null;
        report.releasesSeen = Number(s.releasesSeen);
      } else {
        const reason = describeError(statusResult.reason);
        // A healthy server whose status cannot be read (wrong token, missing service) is not usable.
        if (report.status === "SERVING") report.status = "UNREACHABLE";
        if (!errors.includes(reason)) errors.push(`GetStatus: ${reason}`);
      }
      if (errors.length > 0) report.error = errors.join("; ");
      return report;
    },
    close() {
      if (closed) return;
      closed = true;
      health.close();
      status.close();
      channel.close();
    },
  };
}

function emptyReport(error?: string): Omit<BackendReport, "address" | "checkedAt" | "latencyMs"> {
  return {
    status: "UNREACHABLE",
    release: null,
    schemaVersion: null,
    databaseReachable: null,
    databaseError: null,
    startedAt: null,
    releasesSeen: null,
    ...(error ? { error } : {}),
  };
}

// The instance lives on globalThis: the bundled server (server.ts) and the Remix server build each
// carry a copy of this module, and Vite dev re-evaluates it on change; all must share one channel.
const KEY = Symbol.for("deployops.client.backend");
type Holder = { [KEY]?: Backend };

function getBackend(): Backend {
  const holder = globalThis as Holder;
  if (!holder[KEY]) {
    const env = getEnv();
    holder[KEY] = createBackend({
      address: env.backendGrpcAddr,
      protoRoot: env.grpcProtoRoot,
      timeoutMs: env.backendTimeoutMs,
      authToken: env.backendAuthToken,
      clientRelease: env.releaseId,
    });
  }
  return holder[KEY];
}

/** Ask the backend for its health and status. Never throws. */
export async function checkBackend(): Promise<BackendReport> {
  const started = Date.now();
  try {
    return await getBackend().check();
  } catch (err) {
    // Bad environment or unreadable protos: still answer, with the reason.
    let address = "";
    try {
      address = getEnv().backendGrpcAddr;
    } catch {
      /* env itself is invalid */
    }
    return {
      ...emptyReport(describeError(err)),
      address,
      latencyMs: Date.now() - started,
      checkedAt: new Date(started).toISOString(),
    };
  }
}

/** Close the shared channel (graceful shutdown, tests). The next checkBackend() creates a new one. */
export function closeBackend(): void {
  const holder = globalThis as Holder;
  const backend = holder[KEY];
  delete holder[KEY];
  backend?.close();
}
