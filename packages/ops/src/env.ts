import { existsSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, UsageError } from "./errors.ts";
import { Secret } from "./secrets/secret.ts";

/**
 * The only module of `@repo/ops` that reads `process.env`. Everything else receives an `OpsEnv`.
 * Secret-bearing variables become `Secret`s here, so they cannot be printed by accident.
 */
export type Target = "local" | "fly";

export interface OpsEnv {
  /** `OPS_TARGET` (or `--target`): where a deploy goes. @default "local" */
  target: Target;
  /** `OPS_ENV`: environment name (lock, history and state are kept per environment). @default "local" on local, "production" on fly */
  environment: string;
  /** Repository root: the nearest folder up from the cwd holding `pnpm-workspace.yaml`, or `OPS_REPO_ROOT`. */
  repoRoot: string;
  /** `OPS_STATE_DIR`: run state, local releases and generated dev secrets. @default `<repoRoot>/.ops` */
  stateDir: string;
  /** `DATABASE_URL`: when set on the local target, used instead of the embedded Postgres. */
  databaseUrl: Secret | undefined;
  /** `MIGRATION_DATABASE_URL`: direct (non-pooler) URL for migrations; falls back to `databaseUrl`. */
  migrationDatabaseUrl: Secret | undefined;
  /** `OPS_SECRETS_FILE`: secrets file to use instead of generated local secrets (local) or `.env.<environment>` (fly). */
  secretsFile: string | undefined;
  /**
   * Loopback ports of the local target: `OPS_LOCAL_PG_PORT` (@default 54329) and every
   * `OPS_LOCAL_<APP>_PORT` that is set, keyed by the variable's name (`{ OPS_LOCAL_CLIENT_PORT: 8080 }`).
   * An app's port without a variable comes from its `localPort` in ops.config.ts (src/local/ports.ts).
   */
  localPorts: { postgres: number; apps: Record<string, number> };
  /** `OPS_AUTO_ROLLBACK=false` turns off the rollback a failed smoke check triggers. @default true */
  autoRollback: boolean;
  /** `OPS_VERBOSE=1`: print the commands run and their output (redacted). */
  verbose: boolean;
  /**
   * `OPS_DRY_RUN=1`: every step prints its plan and changes nothing. This is how a dry run reaches
   * every task of `turbo run production-deploy` (turbo passes `-- args` to the named task only).
   */
  dryRun: boolean;
  /** `OPS_LOCK_WAIT` (e.g. `10m`): how long to wait for a busy deploy lock; `--lock-wait` wins. */
  lockWait: string | undefined;
  /** `GITHUB_STEP_SUMMARY`: the deploy report is appended here when set. */
  githubStepSummary: string | undefined;
  /** `CI` is set: never prompt. */
  ci: boolean;
  /** Who runs this: `OPS_ACTOR`, else the OS user. */
  actor: string;
  /** `os.hostname()`. */
  host: string;
  /** `FLY_API_TOKEN` (fly target). Passed to flyctl only through its environment. */
  flyApiToken: Secret | undefined;
  /** `NEON_API_KEY` (fly target). */
  neonApiKey: Secret | undefined;
  /** `OPS_LEDGER_KEY`: HMAC key of the secret fingerprints, kept out of the database when set. */
  ledgerKey: Secret | undefined;
  /** `OPS_SECRET_<KEY>` variables (CI passes app secrets this way), keyed by `<KEY>`. */
  secretEnv: Map<string, Secret>;
  /** The process environment minus nothing: the base for child processes (they need PATH, HOME...). */
  processEnv: Readonly<Record<string, string | undefined>>;
}

/** Ports fetch() and browsers refuse to connect to (the WHATWG "bad port" list): an HTTP app there cannot be reached. */
const FETCH_BLOCKED_PORTS = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** A TCP port (1-65535), or a message naming the variable and the value seen. */
export function checkPortValue(name: string, v: string): number | string {
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : `${name}="${v}" is not a TCP port (1-65535)`;
}

/** Whether fetch() and browsers refuse `port` (an HTTP app there cannot be reached), with the message to show. */
export function fetchBlockedPort(name: string, port: number): string | undefined {
  return FETCH_BLOCKED_PORTS.has(port)
    ? `${name}="${port}" is a port browsers and fetch() refuse to connect to; choose another (e.g. 3000)`
    : undefined;
}

const APP_PORT_VAR = /^OPS_LOCAL_([A-Z0-9_]+)_PORT$/;

const port = (name: string, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = checkPortValue(name, v);
      if (typeof n === "string") {
        ctx.addIssue({ code: "custom", message: n });
        return z.NEVER;
      }
      return n;
    });

const TRUE_WORDS = ["1", "true", "yes", "on"];
const FALSE_WORDS = ["0", "false", "no", "off"];

/** A boolean variable (for `z.string().optional().transform`): unset or empty gives `fallback`; anything but the listed words is an error naming them. */
const flag =
  (name: string, fallback: boolean) =>
  (v: string | undefined, ctx: z.RefinementCtx): boolean => {
    const t = v?.trim().toLowerCase() ?? "";
    if (t === "") return fallback;
    if (TRUE_WORDS.includes(t)) return true;
    if (FALSE_WORDS.includes(t)) return false;
    ctx.addIssue({
      code: "custom",
      message: `${name}="${v}" is not a boolean; to turn it on use one of ${TRUE_WORDS.join(", ")}, to turn it off one of ${FALSE_WORDS.join(", ")}`,
    });
    return z.NEVER;
  };

const schema = z.object({
  OPS_TARGET: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const t = (v ?? "local").trim() || "local";
      if (t !== "local" && t !== "fly") {
        ctx.addIssue({ code: "custom", message: `OPS_TARGET="${t}" is not a target; use "local" or "fly"` });
        return z.NEVER;
      }
      return t as Target;
    }),
  OPS_ENV: z
    .string()
    .optional()
    .superRefine((v, ctx) => {
      if (v !== undefined && !/^[a-z][a-z0-9-]{0,30}$/.test(v)) {
        ctx.addIssue({
          code: "custom",
          message: `OPS_ENV="${v}" is not an environment name; use a short lowercase name like "production" or "staging"`,
        });
      }
    }),
  OPS_STATE_DIR: z.string().optional(),
  OPS_REPO_ROOT: z.string().optional(),
  OPS_SECRETS_FILE: z.string().optional(),
  OPS_LOCAL_PG_PORT: port("OPS_LOCAL_PG_PORT", 54329),
  OPS_AUTO_ROLLBACK: z.string().optional().transform(flag("OPS_AUTO_ROLLBACK", true)),
  OPS_VERBOSE: z.string().optional().transform(flag("OPS_VERBOSE", false)),
  OPS_DRY_RUN: z.string().optional().transform(flag("OPS_DRY_RUN", false)),
  OPS_LOCK_WAIT: z.string().optional(),
  OPS_ACTOR: z.string().optional(),
  GITHUB_STEP_SUMMARY: z.string().optional(),
  CI: z.string().optional(),
});

/** Secret-bearing variables {@link readOpsEnv} reads (each becomes a `Secret`), besides `OPS_SECRET_*`. */
const SECRET_VARIABLES = ["DATABASE_URL", "MIGRATION_DATABASE_URL", "FLY_API_TOKEN", "NEON_API_KEY", "OPS_LEDGER_KEY"] as const;

/**
 * Variables the tool's children read from `OpsEnv.processEnv`: flyctl's own knobs (`FLY_*`, e.g.
 * `FLY_ACCESS_TOKEN`, `FLY_CONFIG_DIR`), proxies (upper and lower case, as curl and Go read them)
 * and CA bundles (`SSL_CERT_FILE` for flyctl, `NODE_EXTRA_CA_CERTS` for Node). turbo.json passes
 * these families to every task (`globalPassThroughEnv`).
 */
export const CHILD_VARIABLES = [
  "FLY_*",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "SSL_CERT_FILE",
  "NODE_EXTRA_CA_CERTS",
] as const;

/**
 * Every variable (or `*` pattern) this tool reads, from this module's own lists: the schema's
 * variables, the secrets, `OPS_SECRET_*`, and {@link CHILD_VARIABLES}. Preflight uses it to warn
 * when turbo would strip one of them from the pipeline's tasks.
 */
export function variablesRead(): string[] {
  return [
    ...new Set([
      ...Object.keys(schema.shape),
      ...SECRET_VARIABLES,
      "OPS_SECRET_*",
      "OPS_INTERRUPT_FILE",
      "OPS_TURBO_RUN_ARGS",
      "OPS_PIPELINE_RUN_ID",
      ...CHILD_VARIABLES,
    ]),
  ];
}

/** Finds the repository root: the nearest folder up from `from` that holds `pnpm-workspace.yaml`. */
export function findRepoRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

// `CI` is set by CI services in their own words (`true`, `1`, a product name): any value but a "false" word means CI.
const falsy = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());
const secretOf = (v: string | undefined) => (v === undefined || v === "" ? undefined : new Secret(v));

/**
 * Parses the environment once. `overrides` carry CLI flags that win over variables (`--target`).
 * @throws {ConfigError} naming the variable and the value seen when one is malformed.
 */
export function readOpsEnv(
  env: Record<string, string | undefined> = process.env,
  overrides: { target?: string; environment?: string; cwd?: string } = {},
): OpsEnv {
  const merged = {
    ...env,
    ...(overrides.target !== undefined ? { OPS_TARGET: overrides.target } : {}),
    ...(overrides.environment !== undefined ? { OPS_ENV: overrides.environment } : {}),
  };
  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const field = first?.path.join(".");
    // A bad --target or --env is a mistyped flag: name the flag the user typed, not the variable it stands for.
    const flag =
      field === "OPS_TARGET" && overrides.target !== undefined
        ? "--target"
        : field === "OPS_ENV" && overrides.environment !== undefined
          ? "--env"
          : undefined;
    if (flag && first) {
      throw new UsageError(first.message.replace(`${field}=`, `${flag} `), {
        where: flag,
        fix:
          flag === "--target"
            ? "Pass --target local or --target fly."
            : "Pass --env with a name like staging (a-z, 0-9 and -, up to 31 characters).",
      });
    }
    throw new ConfigError(first?.message ?? "invalid environment", {
      where: first?.path.join(".") || "environment",
      fix: "Fix or unset the variable, then run again.",
    });
  }
  const e = parsed.data;
  const appPorts: Record<string, number> = {};
  for (const [name, value] of Object.entries(merged)) {
    if (!APP_PORT_VAR.test(name) || name === "OPS_LOCAL_PG_PORT" || value === undefined || value === "") continue;
    const n = checkPortValue(name, value);
    if (typeof n === "string") throw new ConfigError(n, { where: name, fix: "Fix or unset the variable, then run again." });
    appPorts[name] = n;
  }
  const cwd = overrides.cwd ?? process.cwd();
  const repoRoot = e.OPS_REPO_ROOT ? resolve(e.OPS_REPO_ROOT) : findRepoRoot(cwd);
  if (!repoRoot) {
    throw new ConfigError(`no pnpm-workspace.yaml found above ${cwd}`, {
      fix: "Run ops commands from inside the repository checkout.",
    });
  }
  const target = e.OPS_TARGET;
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // a uid without a passwd entry (some containers)
  }
  const opsEnv: OpsEnv = {
    target,
    environment: e.OPS_ENV ?? (target === "local" ? "local" : "production"),
    repoRoot,
    stateDir: e.OPS_STATE_DIR ? resolve(cwd, e.OPS_STATE_DIR) : join(repoRoot, ".ops"),
    databaseUrl: secretOf(env.DATABASE_URL),
    migrationDatabaseUrl: secretOf(env.MIGRATION_DATABASE_URL) ?? secretOf(env.DATABASE_URL),
    secretsFile: e.OPS_SECRETS_FILE ? resolve(cwd, e.OPS_SECRETS_FILE) : undefined,
    localPorts: { postgres: e.OPS_LOCAL_PG_PORT, apps: appPorts },
    autoRollback: e.OPS_AUTO_ROLLBACK,
    verbose: e.OPS_VERBOSE,
    dryRun: e.OPS_DRY_RUN,
    lockWait: e.OPS_LOCK_WAIT?.trim() || undefined,
    githubStepSummary: e.GITHUB_STEP_SUMMARY || undefined,
    ci: e.CI !== undefined && e.CI.trim() !== "" && !falsy(e.CI),
    actor: e.OPS_ACTOR || user,
    host: hostname(),
    flyApiToken: secretOf(env.FLY_API_TOKEN),
    neonApiKey: secretOf(env.NEON_API_KEY),
    ledgerKey: secretOf(env.OPS_LEDGER_KEY),
    secretEnv: new Map(
      Object.entries(env)
        .filter(([k, v]) => k.startsWith("OPS_SECRET_") && k.length > 11 && v !== undefined && v !== "")
        .map(([k, v]) => [k.slice(11), new Secret(v!)]),
    ),
    processEnv: {},
  };
  // Not enumerable: printing or serializing an OpsEnv must not dump raw variables (they hold secrets).
  Object.defineProperty(opsEnv, "processEnv", { value: env, enumerable: false });
  return opsEnv;
}

/**
 * `OPS_INTERRUPT_FILE`: a file `scripts/turbo.mjs` (what `pnpm turbo …` runs) hands the tasks of
 * one turbo run; it writes there the name of the signal the run got, since turbo stops its tasks
 * with SIGINT whichever signal it got. Read only when a step is interrupted, so not in `OpsEnv`.
 */
export function interruptFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.OPS_INTERRUPT_FILE || undefined;
}

/**
 * `OPS_PIPELINE_RUN_ID`: the run id `scripts/turbo.mjs` picks for one `pnpm turbo` invocation
 * (`YYYYMMDD-HHMMSS-xxxx`, UTC), the same in every task of it: the run preflight opens, and what
 * every task of a dry run of the pipeline (which opens no run) plans with. Undefined outside
 * `pnpm turbo`, or when it is not of that form.
 */
export function pipelineRunId(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const id = env.OPS_PIPELINE_RUN_ID;
  return id && /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(id) ? id : undefined;
}

/**
 * `OPS_TURBO_RUN_ARGS`: the arguments of the `turbo` command that runs this task, as a JSON array,
 * set by `scripts/turbo.mjs`; preflight replays them with `--dry=json` to check the plan of this
 * very run (its filters, its env mode). Undefined outside `pnpm turbo`, or when not a string array.
 */
export function turboRunArgs(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  try {
    const args: unknown = JSON.parse(env.OPS_TURBO_RUN_ARGS ?? "");
    return Array.isArray(args) && args.every((a) => typeof a === "string") ? args : undefined;
  } catch {
    return undefined;
  }
}
