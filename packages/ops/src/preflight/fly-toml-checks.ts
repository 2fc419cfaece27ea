/**
 * Preflight checks of each app's fly.toml, before any deploy, against the app's port contract
 * (port-contract.ts, from ops.config.ts): a public app's port and bind address (C-20), an internal
 * app staying internal and reachable over 6PN (C-22).
 *
 * Facts: Fly docs "App configuration (fly.toml)" and flyctl `internal/appconfig/` (fly.toml schema:
 * `[http_service]`, `[[http_service.checks]]` durations, top-level `[checks]` interval ≥ 2s / timeout ≤ 60s, bare integers as ms there; an
 * internal-only app has no `[http_service]`/`[[services]]`; `.internal` resolves to IPv6 6PN
 * addresses). The apps' own defaults (port, bind variables) come from their contract.
 */
import { parse, TomlError } from "smol-toml";
import { goDurationMs } from "../text/go-duration.ts";
import type { CheckResult } from "./types.ts";

type Table = Record<string, unknown>;

import type { AppPortContract } from "./port-contract.ts";

const BIND_ANY = new Set(["0.0.0.0", "::", "[::]"]);
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function tables(v: unknown): Table[] {
  return Array.isArray(v) ? v.filter(isTable) : isTable(v) ? [v] : [];
}

/** Parses TOML; a syntax error becomes a `fail` at `where:line:column`. */
function parseToml(tomlText: string, where: string): { doc: Table } | { error: CheckResult } {
  try {
    return { doc: parse(tomlText) as Table };
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.replace(/^Invalid TOML document: /, "").split("\n")[0];
      return {
        error: {
          id: "fly.toml.parse",
          status: "fail",
          message: `${where} is not valid TOML at line ${err.line}, column ${err.column}: ${reason}`,
          where: `${where}:${err.line}:${err.column}`,
          fix: `fix the TOML syntax at ${where}:${err.line}:${err.column}`,
        },
      };
    }
    throw err;
  }
}

const fmtMs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

/** The ms value of a duration field, or a result explaining why it is wrong. */
function durationField(value: unknown, path: string, where: string, bareIntegers: "ms" | "nanoseconds"): number | CheckResult | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") {
    if (bareIntegers === "ms") return value;
    return {
      id: "fly.toml.duration",
      status: "warn",
      message: `${path} = ${value} is a bare number; here flyctl decodes it as nanoseconds and clamps it to 1s, not ${value}ms or ${value}s`,
      where: `${where} ${path}`,
      fix: `write ${path} as a duration string, e.g. "${value >= 1000 ? fmtMs(value) : `${value}s`}"`,
    };
  }
  // As flyctl reads it: Go's time.ParseDuration, no trimming.
  const ms = typeof value === "string" ? goDurationMs(value) : undefined;
  if (ms === undefined) {
    return {
      id: "fly.toml.duration",
      status: "fail",
      message: `${path} = ${JSON.stringify(value)} is not a duration; flyctl rejects the config`,
      where: `${where} ${path}`,
      fix: `write ${path} as a Go duration string such as "10s" or "500ms"`,
    };
  }
  return ms;
}

/** `[[http_service.checks]]` / `[[services.*_checks]]` durations: strings, 1s..60s (warn, flyctl clamps). */
function checkServiceCheckDurations(check: Table, path: string, where: string, bareIntegers: "ms" | "nanoseconds"): CheckResult[] {
  const results: CheckResult[] = [];
  for (const key of ["interval", "timeout", "grace_period"]) {
    const r = durationField(check[key], `${path}.${key}`, where, bareIntegers);
    if (typeof r === "object") results.push(r);
    else if (typeof r === "number" && key !== "grace_period" && (r < 1000 || r > 60_000)) {
      results.push({
        id: "fly.toml.duration",
        status: "warn",
        message: `${path}.${key} is ${fmtMs(r)}; flyctl clamps service-check durations to 1s..1m`,
        where: `${where} ${path}.${key}`,
        fix: `set ${path}.${key} between "1s" and "1m"`,
      });
    }
  }
  return results;
}

/** Top-level `[checks.<name>]`: type http|tcp, port int, interval ≥ 2s, timeout ≤ 60s (flyctl rejects otherwise). */
function checkTopLevelChecks(doc: Table, where: string): CheckResult[] {
  const results: CheckResult[] = [];
  if (doc.checks === undefined) return results;
  if (!isTable(doc.checks)) {
    return [
      {
        id: "fly.toml.checks",
        status: "fail",
        message: "[checks] must be a table of named checks",
        where: `${where} [checks]`,
        fix: "write checks as [checks.<name>] tables",
      },
    ];
  }
  for (const [name, check] of Object.entries(doc.checks)) {
    const path = `[checks.${name}]`;
    if (!isTable(check)) {
      results.push({
        id: "fly.toml.checks",
        status: "fail",
        message: `${path} is not a table`,
        where: `${where} ${path}`,
        fix: `write ${path} with type, port, interval and timeout`,
      });
      continue;
    }
    if (check.type !== "http" && check.type !== "tcp") {
      results.push({
        id: "fly.toml.checks",
        status: "fail",
        message: `${path}.type is ${check.type === undefined ? "missing" : JSON.stringify(check.type)}; flyctl says "Missing or invalid check type, must be 'http' or 'tcp'"`,
        where: `${where} ${path}`,
        fix: `set type = "tcp" (or "http") in ${path}`,
      });
    }
    if (check.port !== undefined && !Number.isInteger(check.port)) {
      results.push({
        id: "fly.toml.checks",
        status: "fail",
        message: `${path}.port = ${JSON.stringify(check.port)} is not an integer`,
        where: `${where} ${path}.port`,
        fix: `write port as a number, e.g. port = 50051`,
      });
    }
    const interval = durationField(check.interval, `${path}.interval`, where, "ms");
    const timeout = durationField(check.timeout, `${path}.timeout`, where, "ms");
    const grace = durationField(check.grace_period, `${path}.grace_period`, where, "ms");
    for (const r of [interval, timeout, grace]) if (typeof r === "object") results.push(r);
    if (typeof interval === "number" && interval < 2000) {
      results.push({
        id: "fly.toml.checks",
        status: "fail",
        message: `${path}.interval is ${fmtMs(interval)}; flyctl rejects top-level check intervals under 2s`,
        where: `${where} ${path}.interval`,
        fix: `set interval = "2s" or more in ${path} (bare numbers here are milliseconds)`,
      });
    }
    if (typeof timeout === "number" && timeout > 60_000) {
      results.push({
        id: "fly.toml.checks",
        status: "fail",
        message: `${path}.timeout is ${fmtMs(timeout)}; flyctl rejects top-level check timeouts over 60s`,
        where: `${where} ${path}.timeout`,
        fix: `set timeout = "60s" or less in ${path}`,
      });
    }
  }
  return results;
}

/** `[env]` as strings (fly converts non-string values), plus FLY_* name warnings. */
function readEnv(doc: Table, where: string, results: CheckResult[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (doc.env === undefined) return env;
  if (!isTable(doc.env)) {
    results.push({
      id: "fly.toml.env",
      status: "fail",
      message: "[env] must be a table of NAME = value",
      where: `${where} [env]`,
      fix: 'write [env] as NAME = "value" lines',
    });
    return env;
  }
  for (const [key, value] of Object.entries(doc.env)) {
    env[key] = String(value);
    if (key.startsWith("FLY_")) {
      results.push({
        id: "fly.toml.env",
        status: "warn",
        message: `[env] ${key}: names starting with FLY_ are reserved by Fly`,
        where: `${where} [env].${key}`,
        fix: `rename ${key} to a name without the FLY_ prefix`,
      });
    }
  }
  return env;
}

function parsePort(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * Checks a public app's fly.toml text against its contract `c`. `where` names the file in every
 * result; ids are `fly.<app>.*`. Returns `fail` for a TOML syntax error (`where:line:column`), a
 * missing `[http_service]` or `internal_port`, an `internal_port` the server does not listen on
 * (`[env] <portEnv>` different, or unset while the server defaults to `c.port`), a `<hostEnv>`
 * that is a URL, loopback or not a bind-any address, malformed durations
 * and invalid `[checks]`; `warn` for no `[[http_service.checks]]` on `c.healthPath` and for bare
 * integer durations. A `pass` summary is added when nothing fails. Never throws.
 */
export function checkPublicFlyToml(tomlText: string, where: string, c: AppPortContract): CheckResult[] {
  const defaultPort = c.port;
  const healthPath = c.healthPath;
  const app = c.app;
  const parsed = parseToml(tomlText, where);
  if ("error" in parsed) return [parsed.error];
  const { doc } = parsed;
  const results: CheckResult[] = [];
  const env = readEnv(doc, where, results);
  // An image-only app listens on its fixed port: no variable, so no [env] entry moves it.
  const P = c.portEnv ?? "";
  if (c.portEnv === undefined) delete env[P];

  const service = doc.http_service;
  let internalPort: number | undefined;
  if (!isTable(service)) {
    results.push({
      id: `fly.${app}.http-service`,
      status: "fail",
      message: `${where} has no [http_service]${doc.services !== undefined ? " ([[services]] is not checked for a public app)" : ""}; the ${app} gets no public HTTP traffic without one`,
      where,
      fix: `add [http_service] with internal_port = ${env[P] ?? defaultPort} and force_https = true`,
    });
  } else if (
    !Number.isInteger(service.internal_port) ||
    (service.internal_port as number) < 1 ||
    (service.internal_port as number) > 65535
  ) {
    results.push({
      id: `fly.${app}.port`,
      status: "fail",
      message:
        service.internal_port === undefined
          ? "[http_service] has no internal_port; Fly's proxy would not know where the server listens"
          : `[http_service] internal_port = ${JSON.stringify(service.internal_port)} is not a port number (an integer 1..65535)`,
      where: `${where} [http_service].internal_port`,
      fix: `set internal_port = ${parsePort(env[P] ?? "") ?? defaultPort} (a bare integer) in [http_service]`,
    });
  } else {
    internalPort = service.internal_port as number;
  }

  if (env[P] !== undefined && parsePort(env[P]) === undefined) {
    results.push({
      id: `fly.${app}.port`,
      status: "fail",
      message: `[env] ${P} = ${JSON.stringify(env[P])} is not a port number; the ${app} refuses to start`,
      where: `${where} [env].${P}`,
      fix: `set ${P} = "${internalPort ?? defaultPort}" in [env]`,
    });
  } else if (internalPort !== undefined) {
    const listenPort = env[P] === undefined ? defaultPort : parsePort(env[P])!;
    if (listenPort !== internalPort) {
      results.push({
        id: `fly.${app}.port`,
        status: "fail",
        message:
          env[P] === undefined
            ? `internal_port = ${internalPort} but ${c.portEnv === undefined ? `the ${app} listens on ${defaultPort}` : `nothing sets ${P} (server defaults to ${defaultPort})`}; Fly's proxy would find nothing listening and health checks fail`
            : `internal_port = ${internalPort} but [env] ${P} = "${env[P]}"; Fly's proxy would find nothing listening on ${internalPort}`,
        where: `${where} [http_service].internal_port`,
        fix:
          c.portEnv === undefined
            ? `set internal_port = ${listenPort}`
            : `set ${P} = "${internalPort}" in [env] of ${where}, or set internal_port = ${listenPort}`,
      });
    }
  }

  const hostValue = c.hostEnv === undefined ? undefined : env[c.hostEnv];
  if (hostValue !== undefined) {
    const H = c.hostEnv!;
    const host = hostValue.trim();
    if (!BIND_ANY.has(host)) {
      const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(host);
      results.push({
        id: `fly.${app}.host`,
        status: "fail",
        message: isUrl
          ? `[env] ${H} = "${host}" is a URL; ${H} is the address the server binds to, so the server cannot start`
          : LOOPBACK.test(host)
            ? `[env] ${H} = "${host}" binds to loopback; Fly's proxy cannot reach the server`
            : `[env] ${H} = "${host}" is not a bind-any address; Fly's proxy reaches the server only on 0.0.0.0 or ::`,
        where: `${where} [env].${H}`,
        fix: `set ${H} = "0.0.0.0" (or "::"), or remove it if the ${app} binds 0.0.0.0 by default${isUrl ? "; put the public URL in another variable" : ""}`,
      });
    }
  }

  if (isTable(service)) {
    const checks = tables(service.checks);
    checks.forEach((check, index) => {
      results.push(...checkServiceCheckDurations(check, `[[http_service.checks]][${index}]`, where, "nanoseconds"));
    });
    if (healthPath !== undefined && !checks.some((k) => k.path === healthPath)) {
      results.push({
        id: `fly.${app}.healthcheck`,
        status: "warn",
        message: `[http_service] has no [[http_service.checks]] on ${healthPath}; Fly cannot tell a broken release from a healthy one`,
        where: `${where} [http_service]`,
        fix: `add [[http_service.checks]] with path = "${healthPath}", interval = "10s", timeout = "2s", grace_period = "5s"`,
      });
    }
  }
  for (const [index, svc] of tables(doc.services).entries()) {
    tables(svc.http_checks).forEach((c, i) => {
      results.push(...checkServiceCheckDurations(c, `[[services]][${index}].http_checks[${i}]`, where, "ms"));
    });
    tables(svc.tcp_checks).forEach((c, i) => {
      results.push(...checkServiceCheckDurations(c, `[[services]][${index}].tcp_checks[${i}]`, where, "ms"));
    });
  }
  results.push(...checkTopLevelChecks(doc, where));
  if (!results.some((r) => r.status === "fail")) {
    results.unshift({ id: `fly.${app}`, status: "pass", message: `${where}: the proxy reaches the ${app} on port ${internalPort}`, where });
  }
  return results;
}

/**
 * Checks an internal app's fly.toml text against its contract `c` (ids `fly.<app>.*`). Returns
 * `fail` for a TOML syntax error, any `[http_service]` or `[[services]]` (an internal app has no
 * public services, C-22), a `<hostEnv>` other than `::` (`0.0.0.0` is IPv4-only and unreachable
 * over `.internal` 6PN), a bad `<portEnv>`, and invalid `[checks]` (type, interval ≥ 2s, timeout
 * ≤ 60s); `warn` when no top-level tcp check watches its port. A `pass` summary is added when nothing fails. Never throws.
 */
export function checkInternalFlyToml(tomlText: string, where: string, c: AppPortContract): CheckResult[] {
  const app = c.app;
  const parsed = parseToml(tomlText, where);
  if ("error" in parsed) return [parsed.error];
  const { doc } = parsed;
  const results: CheckResult[] = [];
  const env = readEnv(doc, where, results);
  const P = c.portEnv ?? "";
  if (c.portEnv === undefined) delete env[P];

  const publicSections = [doc.http_service !== undefined ? "[http_service]" : "", doc.services !== undefined ? "[[services]]" : ""].filter(
    Boolean,
  );
  if (publicSections.length > 0) {
    results.push({
      id: `fly.${app}.public`,
      status: "fail",
      message: `${where} has ${publicSections.join(" and ")}; the ${app} must be internal only (reached over <app>.internal), and a service gets public IPs on deploy`,
      where: `${where} ${publicSections[0]}`,
      fix: `remove ${publicSections.join(" and ")} from ${where} and deploy with --no-public-ips; release any public IPs it already has (fly ips list, fly ips release)`,
    });
  }

  const hostValue = c.hostEnv === undefined ? undefined : env[c.hostEnv];
  if (hostValue !== undefined && hostValue.trim() !== "::") {
    const H = c.hostEnv!;
    const host = hostValue.trim();
    results.push({
      id: `fly.${app}.host`,
      status: "fail",
      message:
        host === "0.0.0.0"
          ? `[env] ${H} = "0.0.0.0" listens on IPv4 only; <app>.internal resolves to IPv6 (6PN) addresses, so other apps cannot reach the ${app}`
          : host === "[::]"
            ? `[env] ${H} = "[::]" has brackets; the ${app} joins host and port itself (net.JoinHostPort), so it would listen on "[[::]]:port" and fail`
            : `[env] ${H} = "${host}" is not "::"; only the IPv6 any address is reachable over 6PN and by Fly's checks`,
      where: `${where} [env].${H}`,
      fix: `set ${H} = "::" in [env] (or remove it if the ${app} defaults to ::)`,
    });
  }

  let grpcPort = c.port;
  if (env[P] !== undefined) {
    const port = parsePort(env[P]);
    if (port === undefined) {
      results.push({
        id: `fly.${app}.port`,
        status: "fail",
        message: `[env] ${P} = ${JSON.stringify(env[P])} is not a port number; the ${app} refuses to start`,
        where: `${where} [env].${P}`,
        fix: `set ${P} = "${grpcPort}" in [env]`,
      });
    } else grpcPort = port;
  }

  results.push(...checkTopLevelChecks(doc, where));
  const topChecks = isTable(doc.checks) ? Object.entries(doc.checks).filter((e): e is [string, Table] => isTable(e[1])) : [];
  const tcp = topChecks.filter(([, c]) => c.type === "tcp");
  if (!tcp.some(([, c]) => c.port === grpcPort)) {
    const others = tcp.map(([name, c]) => `[checks.${name}] port ${String(c.port)}`);
    results.push({
      id: `fly.${app}.healthcheck`,
      status: "warn",
      message:
        others.length > 0
          ? `no tcp check on the port ${grpcPort} (${others.join(", ")})`
          : `${where} has no top-level [checks] tcp check on the port ${grpcPort}; Fly cannot tell a dead ${app} from a live one`,
      where: `${where} [checks]`,
      fix: `add [checks.grpc] with type = "tcp", port = ${grpcPort}, interval = "15s", timeout = "2s", grace_period = "10s"`,
    });
  }
  if (!results.some((r) => r.status === "fail")) {
    results.unshift({ id: `fly.${app}`, status: "pass", message: `${where}: internal only, listening on [::]:${grpcPort}`, where });
  }
  return results;
}
