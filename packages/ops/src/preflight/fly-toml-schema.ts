/**
 * The fly.toml sections and fields flyctl 0.4.87 reads, as a zod schema, and a check that reports
 * what it would not read: an unknown key is a `warn` with "did you mean" (flyctl drops it silently
 * on deploy, and `fly config validate --strict` lists it), a wrong type is a `fail` (flyctl cannot
 * decode the config). Every result names `file:line`.
 *
 * Fields from flyctl's public source, `internal/appconfig/config.go` (Config, Deploy, Build,
 * Experimental, Mount, File, Static, Compute, Restart, Metrics), `service.go` and `httpservice.go`
 * (Service, HTTPService, checks), `toplevelcheck.go` (ToplevelCheck), fly-go `machine_types.go`
 * (MachineGuest, MachinePort, MachineServiceConcurrency); the compatibility rewrites of
 * `patches.go` are accepted as flyctl accepts them: a single table where an array of tables is
 * expected (`[mounts]`, `[[mount]]`, `[metrics]`), a numeric string for `internal_port` and `port`,
 * a `"soft,hard"` string for `concurrency`, a string for `experimental.cmd`, `[checks]` as an array of
 * named checks, and `[[compute]]` for `[[vm]]`. Option tables flyctl passes to the platform as they
 * are (`http_options`, `tls_options`, `build.settings`, `machine_checks`) are not looked into.
 */
import { parse, TomlError } from "smol-toml";
import { z } from "zod";
import { didYouMean } from "../text/did-you-mean.ts";
import { goDurationMs } from "../text/go-duration.ts";
import { TomlLocations, type TomlPath } from "./toml-locations.ts";
import type { CheckResult } from "./types.ts";

const KNOWN = "known keys: ";
/** A strict object whose unknown keys come out as `unrecognized_keys` issues (warnings here), carrying its known keys for "did you mean". */
const obj = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject(shape, { error: (issue) => (issue.code === "unrecognized_keys" ? KNOWN + Object.keys(shape).join(",") : undefined) });
/** flyctl's `ensureArrayOfMap`: one table or an array of tables. */
const tablesOf = <T extends z.ZodType>(item: T) => z.preprocess((v) => (isTable(v) ? [v] : v), z.array(item));
const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

const str = z.string();
const strings = z.array(z.string());
const int = z.number().int();
/** A port: an integer, or a string of digits (`castToInt`). */
const intish = z.union([int, z.string().regex(/^\d+$/, "expected an integer")]);
/** A fly-go Duration: a Go duration string, or a bare number. Its range rules live in fly-toml-checks.ts. */
const duration = z.union([z.string(), z.number()]);
/** A string fly-go's `Duration` decodes with Go's time.ParseDuration (fly-go `duration.go`); anything else stops flyctl. */
const goDurationString = z.string().refine((v) => goDurationMs(v) !== undefined, 'expected a Go duration such as "30s" or "5m0s"');
/** `[deploy]` timeouts: a Go duration string, or a bare number. */
const deployDuration = z.union([goDurationString, z.number()]);
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const anyTable = z.record(z.string(), z.unknown());
const autostop = z.union([z.boolean(), z.enum(["off", "stop", "suspend"])]);

const concurrency = z.union([
  obj({ type: str.optional(), hard_limit: int.optional(), soft_limit: int.optional() }),
  z.string().regex(/^\d+,\d+$/, 'expected a table, or "soft,hard"'),
]);

const httpCheck = obj({
  interval: duration.optional(),
  timeout: duration.optional(),
  grace_period: duration.optional(),
  restart_limit: int.optional(),
  method: str.optional(),
  path: str.optional(),
  protocol: str.optional(),
  tls_server_name: str.optional(),
  tls_skip_verify: z.boolean().optional(),
  headers: z.union([z.record(z.string(), z.union([z.string(), strings])), z.array(z.unknown())]).optional(),
});
const tcpCheck = obj({
  interval: duration.optional(),
  timeout: duration.optional(),
  grace_period: duration.optional(),
  restart_limit: int.optional(),
});

const port = obj({
  port: intish.optional(),
  start_port: int.optional(),
  end_port: int.optional(),
  handlers: strings.optional(),
  force_https: z.boolean().optional(),
  tls_options: anyTable.optional(),
  http_options: anyTable.optional(),
  proxy_proto_options: anyTable.optional(),
});

const serviceCommon = {
  internal_port: intish.optional(),
  auto_stop_machines: autostop.optional(),
  auto_start_machines: z.boolean().optional(),
  min_machines_running: int.optional(),
  processes: strings.optional(),
  concurrency: concurrency.optional(),
  machine_checks: z.array(anyTable).optional(),
};

const httpService = obj({
  ...serviceCommon,
  force_https: z.boolean().optional(),
  tls_options: anyTable.optional(),
  http_options: anyTable.optional(),
  proxy_proto_options: anyTable.optional(),
  checks: tablesOf(httpCheck).optional(),
});

const service = obj({
  ...serviceCommon,
  protocol: z.enum(["tcp", "udp"]).optional(),
  ports: tablesOf(port).optional(),
  tcp_checks: tablesOf(tcpCheck).optional(),
  http_checks: tablesOf(httpCheck).optional(),
});

const topLevelCheck = obj({
  name: str.optional(),
  type: str.optional(),
  port: int.optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  grace_period: duration.optional(),
  method: str.optional(),
  path: str.optional(),
  protocol: str.optional(),
  tls_server_name: str.optional(),
  tls_skip_verify: z.boolean().optional(),
  headers: z.union([z.record(z.string(), z.union([z.string(), strings])), z.array(z.unknown())]).optional(),
  processes: strings.optional(),
  kind: str.optional(),
});

const guest = {
  size: str.optional(),
  memory: z.union([z.string(), int]).optional(),
  memory_mb: int.optional(),
  cpus: int.optional(),
  cpu_kind: str.optional(),
  gpus: int.optional(),
  gpu_kind: str.optional(),
  kernel_args: strings.optional(),
  host_dedication_id: str.optional(),
  persist_rootfs: z.enum(["never", "restart", "always"]).optional(),
  processes: strings.optional(),
};
const vm = obj(guest);

const mount = obj({
  source: str.optional(),
  destination: str.optional(),
  initial_size: z.union([z.string(), int]).optional(),
  snapshot_retention: int.optional(),
  scheduled_snapshots: z.boolean().optional(),
  auto_extend_size_threshold: int.optional(),
  auto_extend_size_increment: str.optional(),
  auto_extend_size_limit: str.optional(),
  processes: strings.optional(),
});

const stringOrStrings = z.union([z.string(), strings]);

/** The sections and top-level fields of fly.toml that flyctl 0.4.87 reads. */
export const flyTomlSchema = obj({
  app: str.optional(),
  primary_region: str.optional(),
  kill_signal: str.optional(),
  kill_timeout: z.union([goDurationString, int]).optional(),
  swap_size_mb: int.optional(),
  console_command: str.optional(),
  host_dedication_id: str.optional(),
  machine_config: str.optional(),
  container: str.optional(),
  experimental: obj({
    cmd: stringOrStrings.optional(),
    entrypoint: stringOrStrings.optional(),
    exec: stringOrStrings.optional(),
    auto_rollback: z.boolean().optional(),
    enable_consul: z.boolean().optional(),
    enable_etcd: z.boolean().optional(),
    lazy_load_images: z.boolean().optional(),
    attached: anyTable.optional(),
    machine_config: str.optional(),
    use_zstd: z.boolean().optional(),
  }).optional(),
  build: obj({
    builder: str.optional(),
    args: z.record(z.string(), scalar).optional(),
    buildpacks: strings.optional(),
    image: str.optional(),
    settings: anyTable.optional(),
    builtin: str.optional(),
    dockerfile: str.optional(),
    ignorefile: str.optional(),
    "build-target": str.optional(),
    build_target: str.optional(),
    compose: anyTable.optional(),
    compression: z.enum(["gzip", "zstd"]).optional(),
    compression_level: int.optional(),
  }).optional(),
  deploy: obj({
    strategy: str.optional(),
    max_unavailable: z.number().optional(),
    wait_timeout: deployDuration.optional(),
    release_command: str.optional(),
    release_command_timeout: deployDuration.optional(),
    release_command_vm: vm.optional(),
    seed_command: str.optional(),
  }).optional(),
  // patchEnv: an array of tables is merged into one table
  env: z.preprocess((v) => (Array.isArray(v) && v.every(isTable) ? Object.assign({}, ...v) : v), z.record(z.string(), scalar)).optional(),
  processes: z.union([z.record(z.string(), z.string()), z.array(z.unknown())]).optional(),
  mounts: tablesOf(mount).optional(),
  mount: tablesOf(mount).optional(),
  http_service: httpService.optional(),
  services: tablesOf(service).optional(),
  checks: z.union([z.record(z.string(), topLevelCheck), z.array(topLevelCheck)]).optional(),
  files: tablesOf(
    obj({
      guest_path: str,
      local_path: str.optional(),
      secret_name: str.optional(),
      raw_value: str.optional(),
      processes: strings.optional(),
    }),
  ).optional(),
  machine_checks: z.array(anyTable).optional(),
  restart: tablesOf(
    obj({ policy: z.enum(["always", "never", "on-failure"]).optional(), retries: int.optional(), processes: strings.optional() }),
  ).optional(),
  vm: tablesOf(vm).optional(),
  compute: tablesOf(vm).optional(),
  statics: tablesOf(obj({ guest_path: str, url_prefix: str, tigris_bucket: str.optional(), index_document: str.optional() })).optional(),
  metrics: tablesOf(
    obj({ port: int.optional(), path: str.optional(), https: z.boolean().optional(), processes: strings.optional() }),
  ).optional(),
});

/** `[http_service.checks][0].path` style, for messages. */
function showPath(path: TomlPath): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${p}` : p;
  return out || "(top level)";
}

/**
 * Validates a fly.toml against the fields flyctl 0.4.87 reads. Returns a `fail` per value of the
 * wrong type (flyctl cannot decode the file) and per TOML syntax error, and a `warn` per unknown key
 * (flyctl ignores it) with "did you mean"; each at `file:line`. An empty list means flyctl reads
 * every key. Never throws.
 */
export function checkFlyTomlSchema(tomlText: string, where: string): CheckResult[] {
  let doc: unknown;
  try {
    doc = parse(tomlText);
  } catch (err) {
    if (err instanceof TomlError) return []; // the fly.toml checks report syntax errors with line and column
    throw err;
  }
  const parsed = flyTomlSchema.safeParse(doc);
  if (parsed.success) return [];
  const locations = new TomlLocations(tomlText);
  const results: CheckResult[] = [];
  for (const issue of parsed.error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
    if (issue.code === "unrecognized_keys") {
      const known = issue.message.startsWith(KNOWN) ? issue.message.slice(KNOWN.length).split(",") : [];
      for (const key of issue.keys) {
        const line = locations.lineOf([...path, key]);
        const at = line ? `${where}:${line}` : where;
        const shown = path.length ? `${showPath(path)}.${key}` : key;
        results.push({
          id: "fly.toml.unknown-key",
          status: "warn",
          message: `${at}: ${shown} is not a key flyctl reads${path.length ? ` in ${showPath(path)}` : ""}${didYouMean(key, known)} (flyctl ignores it on deploy)`,
          where: at,
          fix: `${didYouMean(key, known) ? `rename it to ${didYouMean(key, known).replace(/^; did you mean (.*)\?$/, "$1")}` : "remove it"}; \`fly config validate --strict\` lists keys flyctl does not read`,
        });
      }
      continue;
    }
    const line = locations.lineOf(path);
    const at = line ? `${where}:${line}` : where;
    // The value seen, except under [env] (it may be a credential).
    const seen = path[0] === "env" ? "" : ` (seen: ${shortJson(valueAt(doc, path))})`;
    results.push({
      id: "fly.toml.schema",
      status: "fail",
      message: `${at}: ${showPath(path)}: ${issue.message}${seen}; flyctl cannot read this config`,
      where: at,
      fix: `fix ${showPath(path)} in ${where} (see https://fly.io/docs/reference/configuration/)`,
    });
  }
  return results.sort((a, b) => lineNo(a.where) - lineNo(b.where));
}

const lineNo = (where: string | undefined) => Number(/:(\d+)$/.exec(where ?? "")?.[1] ?? 0);

function valueAt(doc: unknown, path: TomlPath): unknown {
  let v = doc;
  for (const p of path) v = isTable(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[p as never] : undefined;
  return v;
}

function shortJson(v: unknown): string {
  const text = v === undefined ? "nothing" : (JSON.stringify(v) ?? String(v));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
