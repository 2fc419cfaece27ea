import type { AppConfig } from "../config/schema.ts";

/**
 * What an app promises about where it listens, read from its entry in ops.config.ts, so the
 * Dockerfile and fly.toml checks never need to know which apps exist. Shared by
 * dockerfile-ports.ts and fly-toml-checks.ts.
 */
export interface AppPortContract {
  /** The app's name in ops.config.ts: check ids (`fly.<app>.port`) and messages use it. */
  app: string;
  /**
   * `public`: Fly's proxy reaches it through `[http_service]` (bind any address, `internal_port`
   * = its port); `internal`: no services, reached over 6PN as `<fly-app>.internal:<port>`, so it
   * must listen on the IPv6 any address `::`.
   */
  exposure: "public" | "internal";
  /** Port it listens on when `portEnv` is unset (its built-in default). */
  port: number;
  /** Variable it reads its port from (`PORT`, `GRPC_PORT`); unset for an image-only app that listens on its fixed `port`. */
  portEnv: string | undefined;
  /** Variable it reads its bind address from (`HOST`, `GRPC_HOST`); unset: the bind address is not checked. */
  hostEnv: string | undefined;
  /** Path its http health check answers on (public apps). */
  healthPath: string | undefined;
  /** Image recipe whose specific checks apply (`node-remix`, `go-static`); unset: only the generic ones. */
  stack: "node-remix" | "go-static" | undefined;
}

/** The public HTTP port when an app declares none (remix-serve and most Node servers). */
const DEFAULT_HTTP_PORT = 3000;

/**
 * The port contract of `app` from its config: exposure from `fly.public`, port from `fly.port`
 * (else its `localPort`, else 3000), variables from `portEnv` / `hostEnv`, stack from `fly.stack`.
 */
export function portContractOf(app: string, cfg: AppConfig): AppPortContract {
  return {
    app,
    exposure: cfg.fly?.public === false ? "internal" : "public",
    port: cfg.fly?.port ?? cfg.localPort ?? DEFAULT_HTTP_PORT,
    portEnv: cfg.portEnv,
    hostEnv: cfg.hostEnv,
    healthPath: cfg.health.kind === "http" ? cfg.health.path : undefined,
    stack: cfg.fly?.stack,
  };
}

/** The contract of a built app: it reads its port from `portEnv` (the Dockerfile checks need it). */
export type BuiltPortContract = AppPortContract & { portEnv: string };
