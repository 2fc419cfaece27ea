// An in-process stand-in for the Go backend: a real grpc-js server on 127.0.0.1:0 serving
// grpc.health.v1.Health and deployops.status.v1.StatusService from the repo's protos.
import { fileURLToPath } from "node:url";
import * as net from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { LOADER_OPTIONS, type HealthStatus } from "../../app/lib/backend.server";

export const PROTO_ROOT = fileURLToPath(new URL("../../../../proto", import.meta.url));

export interface StatusFields {
  releaseId: string;
  schemaVersion: number;
  databaseReachable: boolean;
  databaseError: string;
  startedAt: string;
  releasesSeen: number;
}

export interface FakeBackendOptions {
  health?: HealthStatus;
  status?: Partial<StatusFields>;
  /** When set, GetStatus answers UNAUTHENTICATED unless `authorization: Bearer <token>` is sent. */
  requireToken?: string;
  /** Delay before every answer (to test deadlines and in-flight requests). */
  delayMs?: number;
}

export interface ReceivedCall {
  method: "Check" | "GetStatus";
  metadata: Record<string, string>;
  request: unknown;
}

export interface FakeBackend {
  address: string;
  port: number;
  calls: ReceivedCall[];
  options: FakeBackendOptions;
  setHealth(status: HealthStatus): void;
  close(): Promise<void>;
}

export const DEFAULT_STATUS: StatusFields = {
  releaseId: "backend-rel-42",
  schemaVersion: 7,
  databaseReachable: true,
  databaseError: "",
  startedAt: "2026-01-02T03:04:05Z",
  releasesSeen: 3,
};

function metadataObject(md: grpc.Metadata): Record<string, string> {
  return Object.fromEntries(Object.entries(md.getMap()).map(([k, v]) => [k, String(v)]));
}

export async function startFakeBackend(opts: FakeBackendOptions = {}): Promise<FakeBackend> {
  const options: FakeBackendOptions = { health: "SERVING", ...opts };
  const definition = protoLoader.loadSync(["grpc/health/v1/health.proto", "deployops/status/v1/status.proto"], {
    ...LOADER_OPTIONS,
    includeDirs: [PROTO_ROOT],
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    deployops: { status: { v1: { StatusService: grpc.ServiceClientConstructor } } };
  };
  const calls: ReceivedCall[] = [];
  const later = (fn: () => void) => (options.delayMs ? setTimeout(fn, options.delayMs) : fn());

  const server = new grpc.Server();
  server.addService(pkg.grpc.health.v1.Health.service, {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) {
      calls.push({ method: "Check", metadata: metadataObject(call.metadata), request: call.request });
      later(() => cb(null, { status: options.health }));
    },
    Watch(call: grpc.ServerWritableStream<unknown, unknown>) {
      call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "not in the fake" });
    },
  });
  server.addService(pkg.deployops.status.v1.StatusService.service, {
    GetStatus(call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) {
      const metadata = metadataObject(call.metadata);
      calls.push({ method: "GetStatus", metadata, request: call.request });
      later(() => {
        if (options.requireToken && metadata.authorization !== `Bearer ${options.requireToken}`) {
          cb({ code: grpc.status.UNAUTHENTICATED, details: "missing or wrong bearer token" });
          return;
        }
        cb(null, { ...DEFAULT_STATUS, ...options.status });
      });
    },
  });

  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? fail(err) : ok(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    calls,
    options,
    setHealth(status) {
      options.health = status;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.tryShutdown(() => ok());
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}

/** A loopback port nothing listens on (bound and released). */
export async function unusedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((ok) => srv.listen(0, "127.0.0.1", ok));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((ok) => srv.close(() => ok()));
  return port;
}
