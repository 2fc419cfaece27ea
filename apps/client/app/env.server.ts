// The one module that reads the client's environment. Everything else asks getEnv().
//
// Values are validated with zod at first use (server start in production); a bad value stops the
// process with a message that names the variable. Secret values (BACKEND_AUTH_TOKEN,
// SESSION_SECRET) never appear in error messages.
import { existsSync } from "node:fs";
import { isIP } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

export class EnvError extends Error {
  override name = "EnvError";
  constructor(readonly problems: string[]) {
    super(`invalid client environment:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A bind address: an IP address (IPv6 may be bracketed) or a hostname. Never a URL. */
function checkHost(value: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    return `HOST must be a bind address or hostname (e.g. 0.0.0.0, ::, localhost), not a URL; got "${value}"`;
  }
  const unbracketed = value.replace(/^\[(.*)\]$/, "$1");
  if (isIP(unbracketed) !== 0 || HOSTNAME_RE.test(value)) return null;
  return `HOST must be a bind address or hostname (e.g. 0.0.0.0, ::, localhost); got "${value}"`;
}

/**
 * Where the .proto files are when GRPC_PROTO_ROOT is not set:
 * - bundled server (build/server.mjs): `<dir of server.mjs>/proto`, copied there by build-server.mjs;
 * - source tree (remix vite:dev, vitest; this file is apps/client/app/env.server.ts): the repo's
 *   `proto` folder, ../../proto from apps/client.
 * The first candidate that exists wins; if none does, the bundle location is returned so the error
 * names the place a production build expects.
 */
export function defaultProtoRoot(moduleUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const candidates = [join(here, "proto"), resolve(here, "../../../proto")];
  return candidates.find((dir) => existsSync(join(dir, "deployops"))) ?? candidates[0]!;
}

// Unset and empty are the same thing for every variable here.
const optionalString = z.preprocess((v) => (typeof v === "string" && v.trim() === "" ? undefined : v), z.string().optional());

function withDefault<T extends z.ZodType>(schema: T, fallback: z.input<T>) {
  return z.preprocess((v) => (v === undefined || (typeof v === "string" && v.trim() === "") ? fallback : v), schema);
}

const intString = (name: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, { message: `${name} must be a whole number` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `${name} must be between ${min} and ${max}` });

const schema = z.object({
  NODE_ENV: withDefault(z.enum(["development", "production", "test"]), "production"),
  PORT: withDefault(intString("PORT", 0, 65535), "3000"),
  HOST: withDefault(
    z
      .string()
      .trim()
      .superRefine((value, ctx) => {
        const problem = checkHost(value);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    "0.0.0.0",
  ),
  BACKEND_GRPC_ADDR: withDefault(
    z
      .string()
      .trim()
      .refine((v) => !/^https?:\/\//i.test(v), {
        message: "BACKEND_GRPC_ADDR must be host:port (or a gRPC target like dns:///host:port), not an http(s) URL",
      })
      .refine((v) => !/\s/.test(v), { message: "BACKEND_GRPC_ADDR must not contain whitespace" }),
    "localhost:50051",
  ),
  GRPC_PROTO_ROOT: optionalString,
  RELEASE_ID: withDefault(z.string().trim().max(128, { message: "RELEASE_ID must be at most 128 characters" }), "dev"),
  BACKEND_AUTH_TOKEN: optionalString,
  SESSION_SECRET: z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
    z
      .string()
      // custom check so the message never echoes the value
      .refine((v) => v.length >= 32, { message: "SESSION_SECRET must be at least 32 characters when set" })
      .optional(),
  ),
  BACKEND_TIMEOUT_MS: withDefault(intString("BACKEND_TIMEOUT_MS", 1, 120_000), "2000"),
});

export interface ClientEnv {
  nodeEnv: "development" | "production" | "test";
  port: number;
  /** Bind address, e.g. 0.0.0.0 or :: (brackets removed). */
  host: string;
  backendGrpcAddr: string;
  grpcProtoRoot: string;
  releaseId: string;
  /** Secret: send as metadata only, never log. */
  backendAuthToken: string | undefined;
  /** Secret: validated only. */
  sessionSecret: string | undefined;
  backendTimeoutMs: number;
}

const REQUIRED_PROTOS = ["deployops/status/v1/status.proto", "grpc/health/v1/health.proto"];

/**
 * Parse and validate an environment. Throws EnvError listing every problem. Reads only `source`
 * (and checks that the proto root holds the protos the client loads).
 */
export function loadEnv(source: Record<string, string | undefined>): ClientEnv {
  const picked = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, source[k]]));
  const result = schema.safeParse(picked);
  if (!result.success) {
    throw new EnvError(
      result.error.issues.map((issue) => {
        const name = issue.path.join(".");
        return issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`;
      }),
    );
  }
  const e = result.data;
  const grpcProtoRoot = resolve(e.GRPC_PROTO_ROOT ?? defaultProtoRoot());
  const missing = REQUIRED_PROTOS.filter((f) => !existsSync(join(grpcProtoRoot, f)));
  if (missing.length > 0) {
    throw new EnvError([
      `GRPC_PROTO_ROOT: "${grpcProtoRoot}"${e.GRPC_PROTO_ROOT ? "" : " (the default)"} does not contain ${missing.join(", ")}; set GRPC_PROTO_ROOT to the folder holding the repo's proto/ files`,
    ]);
  }
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST.replace(/^\[(.*)\]$/, "$1"),
    backendGrpcAddr: e.BACKEND_GRPC_ADDR,
    grpcProtoRoot,
    releaseId: e.RELEASE_ID,
    backendAuthToken: e.BACKEND_AUTH_TOKEN,
    sessionSecret: e.SESSION_SECRET,
    backendTimeoutMs: e.BACKEND_TIMEOUT_MS,
  };
}

let cached: ClientEnv | undefined;

/** The process environment, validated once. */
export function getEnv(): ClientEnv {
  cached ??= loadEnv(process.env);
  return cached;
}

/** Forget the validated environment (tests change process.env between cases). */
export function resetEnvCache(): void {
  cached = undefined;
}
