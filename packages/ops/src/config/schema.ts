import { z } from "zod";
import { didYouMean } from "../text/did-you-mean.ts";

/**
 * An object schema that refuses unknown keys, naming each with "did you mean" (a misspelled
 * optional key such as `locaEnv` would otherwise be dropped without a word).
 */
function strictObject<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `${issue.keys.map((k) => `unknown key "${k}"${didYouMean(k, known)}`).join("; ")} (known keys: ${known.join(", ")})`
        : undefined,
  });
}

/**
 * The project's operations, declared once in `ops.config.ts` at the repository root and
 * validated here. Cross-field rules (deploy order names real apps, links point at apps...) live in
 * `rules.ts`.
 */
const appName = z.string().regex(/^[a-z][a-z0-9-]*$/, "app names are lowercase letters, digits and dashes");
const envKey = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must match ^[A-Za-z_][A-Za-z0-9_]*$");

const healthSchema = z.discriminatedUnion("kind", [
  strictObject({
    kind: z.literal("grpc"),
    /** gRPC health service name to ask about; "" is the whole server. */
    service: z.string().default(""),
    /** How long a new release may take to report SERVING. */
    timeoutMs: z.number().int().positive().default(60_000),
  }),
  strictObject({
    kind: z.literal("http"),
    /** Path answering 200 when healthy, with JSON `{ client: { release } }`. */
    path: z.string().startsWith("/").default("/healthz"),
    timeoutMs: z.number().int().positive().default(60_000),
  }),
]);

const appSchema = strictObject({
  /** Workspace folder of the app, relative to the repository root (a built app's sources; an image-only app's deploy task). Required for a built app. */
  dir: z.string().min(1).optional(),
  /**
   * A prebuilt image this app runs instead of a build of ours (an image-only app, e.g.
   * `ghcr.io/goauthentik/server:2025.10.1`): no build task, `fly deploy --image <ref>`, not run on
   * the local target (no container runtime). Preflight checks it is pinned (`preflight/image-ref.ts`).
   */
  image: z.string().min(1).optional(),
  /**
   * Off unless the environment turns it on by setting `FLY_APP_<APP>` in its apps.env
   * (`config/apps-of-environment.ts`); an app that is off is not synced, deployed or checked.
   */
  optional: z.boolean().default(false),
  /** Build outputs (relative to `dir`) copied into each local release. Required for a built app. */
  artifacts: z.array(z.string().min(1)).min(1).optional(),
  /** Command run inside the release folder by the local target (argv, no shell). Required for a built app. */
  command: z.array(z.string().min(1)).min(1).optional(),
  /** Environment variable the app reads its listening port from. Required for a built app. */
  portEnv: envKey.optional(),
  /**
   * The app's stable loopback port on the local target (the router listens there; links and the
   * public URL point at it). `OPS_LOCAL_<APP>_PORT` overrides it.
   */
  localPort: z.number().int().min(1).max(65535).optional(),
  /** Environment variable the app reads its bind address from (`HOST`, `GRPC_HOST`); preflight checks it in the Dockerfile and fly.toml. */
  hostEnv: envKey.optional(),
  /** Environment variable the app reads its release id from. */
  releaseEnv: envKey.default("RELEASE_ID"),
  /** Plain (non-secret) environment for the local target. */
  localEnv: z.record(envKey, z.string()).default({}),
  /** Environment variables that hold another app's address: `{ API_ADDR: "web-api" }`. */
  links: z.record(envKey, appName).default({}),
  /** Secret keys this app receives (and only these). */
  secrets: z.array(envKey).default([]),
  /**
   * The app reads its database connection as separate settings instead of one URL (a Django app
   * such as authentik: `AUTHENTIK_POSTGRESQL__HOST`, `__SSLMODE`…). Preflight checks them by Neon's
   * rules: the host among the app's secrets is a direct endpoint, or a pooler (`-pooler`) only when
   * `disableServerSideCursors` is "true" (in the secrets or the fly.toml `[env]`); `sslmode` is
   * require, verify-ca or verify-full.
   */
  databaseSettings: strictObject({
    /** Secret holding the database host. */
    host: envKey,
    /** Secret holding the libpq sslmode. */
    sslmode: envKey,
    /** Variable that turns server-side cursors off (needed behind PgBouncer in transaction mode, which Neon's pooler is). */
    disableServerSideCursors: envKey.optional(),
  }).optional(),
  health: healthSchema,
  /** Fly settings: the fly.toml and whether the app may have public IPs. */
  fly: strictObject({
    /** fly.toml of this app, relative to the repository root. */
    config: z.string().min(1),
    /** Whether the app may have public IPs. An internal app is deployed with --no-public-ips and checked for none (C-22). */
    public: z.boolean(),
    /**
     * Port the app listens on in its Fly machine when its fly.toml `[env]` does not set `portEnv`
     * (its built-in default); other apps reach an internal app on `<fly-app>.internal:<port>` (`links`).
     */
    port: z.number().int().positive().optional(),
    /** Image recipe whose specific Dockerfile checks apply: `node-remix` (protos and the Remix build), `go-static` (a CGO-free `go build`). */
    stack: z.enum(["node-remix", "go-static"]).optional(),
  }).optional(),
});

const smokeCheckSchema = strictObject({
  name: z.string().min(1),
  /** The app whose URL this check calls (default: `publicApp`); a check of an app that is off in an environment is left out there. */
  app: appName.optional(),
  /** Path on the app's URL. */
  path: z.string().startsWith("/"),
  /** The status a healthy answer has, or several that all count (authentik's health endpoints answer 200 or 204 depending on its version). */
  expectStatus: z.union([z.number().int(), z.array(z.number().int()).min(1)]).default(200),
  /** Text the body must contain. */
  expectText: z.string().optional(),
  /** The body is the `/healthz` JSON and must prove the releases of this deploy (C-23). */
  expectReleases: z.boolean().default(false),
});

export const opsConfigSchema = strictObject({
  project: z.string().min(1),
  /** Folder of postgres-migrations SQL files, relative to the repository root. */
  migrationsDir: z.string().default("migrations"),
  apps: z.record(appName, appSchema),
  /** Deploy order; rollback runs in reverse. */
  deployOrder: z.array(appName).min(1),
  /** The app whose URL the smoke checks call. */
  publicApp: appName,
  /**
   * What a pipeline does when an app's deploy fails: `rollback-run` rolls back the apps this run
   * already changed (including one a rolling deploy updated halfway), then smoke-checks; `stop`
   * leaves everything as it is and prints the commands that would.
   */
  onDeployFailure: z.enum(["rollback-run", "stop"]).default("rollback-run"),
  secrets: strictObject({
    /** Keys the local target generates once (strong random values) when no secrets file is given. */
    generated: z.array(envKey).default([]),
    /** Keys `ops:secrets rotate` may replace. */
    rotatable: z.array(envKey).default([]),
    /**
     * Random bytes of a generated or rotated value, per key (default 32: 43 base64url characters).
     * 48 gives 64 characters, for apps that want more (authentik's secret key: 50 or more).
     */
    bytes: z.record(envKey, z.number().int().min(16).max(1024)).default({}),
    /**
     * Keys synced and checked like secrets (per environment, on stdin) whose values are settings
     * anyone may read: a database name, a user name, a TLS mode. Their values are not masked in
     * output, so a value such as `require` or a name equal to an app's does not blank out those
     * words everywhere. Never list a credential here.
     */
    plain: z.array(envKey).default([]),
    /**
     * What a value must look like, checked by preflight before anything is switched (the app
     * would otherwise refuse it only when it starts): `minLength` in characters, `pattern` a
     * regular expression the whole value must match, `hint` what the pattern asks for.
     */
    rules: z
      .record(
        envKey,
        strictObject({
          minLength: z.number().int().positive().optional(),
          pattern: z
            .string()
            .refine(
              (p) => {
                try {
                  new RegExp(p);
                  return true;
                } catch {
                  return false;
                }
              },
              { message: "is not a valid regular expression" },
            )
            .optional(),
          hint: z.string().optional(),
        }),
      )
      .default({}),
  }).prefault({}),
  smoke: strictObject({
    checks: z.array(smokeCheckSchema).min(1),
    /** Overall deadline for all checks, retries included. */
    deadlineMs: z.number().int().positive().default(90_000),
    /** Timeout of one HTTP attempt. */
    attemptTimeoutMs: z.number().int().positive().default(5_000),
    /** First retry delay; doubles up to `maxRetryDelayMs`. */
    retryDelayMs: z.number().int().positive().default(500),
    maxRetryDelayMs: z.number().int().positive().default(5_000),
  }),
  migrate: strictObject({
    /** How long to wait for postgres-migrations' advisory lock before failing. */
    lockTimeoutMs: z.number().int().positive().default(30_000),
    /** Overall deadline of the migrate step. */
    deadlineMs: z.number().int().positive().default(600_000),
    /** Connect timeout of one attempt (Neon computes may be cold, C-16). */
    connectTimeoutMs: z.number().int().positive().default(15_000),
    connectAttempts: z.number().int().positive().default(4),
    /** `lock_timeout` of the migration session: DDL waiting this long for a table lock fails instead of queueing all traffic behind it. */
    statementLockTimeoutMs: z.number().int().positive().default(10_000),
    /** `statement_timeout` of the migration session. */
    statementTimeoutMs: z.number().int().positive().default(600_000),
    /** squawk rules not to report (ids like `prefer-bigint-over-int`). */
    lintExclude: z.array(z.string()).default([]),
    /**
     * squawk rules that fail preflight instead of warning: changes that break the release still
     * running during a rolling deploy (it reads the old columns and tables).
     */
    lintFail: z
      .array(z.string())
      .default([
        "ban-drop-database",
        "ban-drop-table",
        "ban-drop-column",
        "renaming-column",
        "renaming-table",
        "changing-column-type",
        "adding-required-field",
      ]),
    /** Postgres version squawk assumes (match the Neon project). */
    pgVersion: z.string().default("17"),
  }).prefault({}),
  neon: strictObject({
    /** How often Neon operations are polled (Neon suggests about 5 s). */
    pollIntervalMs: z.number().int().positive().default(5_000),
    /** Give up waiting for a Neon operation after this long. */
    pollTimeoutMs: z.number().int().positive().default(600_000),
  }).prefault({}),
  lock: strictObject({
    /** Lease length; a crashed deploy's lock expires after this. Renewed by every step. */
    ttlMs: z.number().int().positive().default(300_000),
  }).prefault({}),
  /** Env vars each turbo task needs, checked against turbo.json by preflight (C-17). */
  turbo: strictObject({
    requiredEnv: z.record(z.string(), z.array(envKey)).default({}),
    secretEnv: z.array(envKey).default([]),
    sideEffectTasks: z.array(z.string()).default([]),
    buildTasks: z.array(z.string()).default([]),
  }).prefault({}),
});

/** What people write in `ops.config.ts`. */
export type WrittenOpsConfig = z.input<typeof opsConfigSchema>;
/** The validated config with defaults applied. */
export type OpsConfig = z.output<typeof opsConfigSchema>;
export type AppConfig = OpsConfig["apps"][string];
export type SmokeCheckConfig = OpsConfig["smoke"]["checks"][number];
