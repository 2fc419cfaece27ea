/**
 * Pure rules for the database URL the migrate step connects with (Neon cases C-13, C-15, C-16).
 * Nothing here connects; nothing returned holds the password.
 *
 * Facts: the pooled host is the direct host with `-pooler` after the endpoint id, and PgBouncer
 * in transaction mode does not keep session-level advisory locks, so schema migrations use the
 * direct host (Neon docs "Connection pooling"; postgres-migrations README "Concurrency" for its
 * advisory lock); Neon rejects connections without TLS (Neon docs "Connect to Neon securely");
 * node-postgres lets URL TLS parameters override an explicit `ssl` option
 * (pg/lib/connection-parameters.js: `Object.assign({}, config, parse(connectionString))`), and
 * pg-connection-string treats `sslmode=prefer|require|verify-ca` as verify-full; a suspended
 * compute can take seconds to wake (Neon docs "Connection latency and timeouts", "Scale to Zero").
 */

/** Connect timeout the migrate step should use: longer than a Neon cold start (C-16). Milliseconds. */
export const MIGRATION_CONNECT_TIMEOUT_MS = 15_000;

/** Result of {@link checkMigrationUrl}: the host to connect to, or why not. */
export type MigrationUrlCheck =
  | {
      ok: true;
      /** Effective host, lowercased (the `host` query parameter when present, as node-postgres uses it). */
      host: string;
      /** False only for a known pooler endpoint (never returned as ok for Neon). */
      direct: boolean;
      /** Whether the host is a Neon endpoint (`*.neon.tech`). */
      neon: boolean;
      /** Non-fatal notes, already redacted. */
      warnings: string[];
    }
  | {
      ok: false;
      /** What is wrong, with the URL redacted. */
      message: string;
      /** The next action. */
      fix: string;
    };

const TLS_MODES = new Set(["require", "verify-ca", "verify-full"]);
const KNOWN_SSLMODES = new Set(["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"]);
/** URL parameters node-postgres turns into its `ssl` setting (pg-connection-string). */
const URL_TLS_PARAMS = ["sslmode", "ssl", "sslcert", "sslkey", "sslrootcert"];
/** Query parameters that carry secrets. */
const _SECRET_PARAMS = /^(password|sslpassword)$/i;
const LOCAL_HOSTS = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?|\/.*)$/;

/** Whether `host` is a Neon endpoint host (`ep-….<region>.aws.neon.tech`, `….azure.neon.tech`). */
export function isNeonHost(host: string): boolean {
  return /(^|\.)neon\.tech$/i.test(host);
}

/** The direct host for a Neon pooled host (`ep-x-123-pooler.region.aws.neon.tech` → `ep-x-123.region.aws.neon.tech`); other hosts unchanged. */
export function neonDirectHost(host: string): string {
  const [endpoint = "", ...rest] = host.toLowerCase().split(".");
  return [endpoint.replace(/-pooler$/, ""), ...rest].join(".");
}

/**
 * `url` with the password (userinfo and `password=`/`sslpassword=` query values) replaced by
 * `***`. Works on the raw text, so a password with unencoded `@`, `/`, `?` or `#` is still hidden:
 * everything from the first `:` after `scheme://` to the last `@` goes (over-redacting rather
 * than leaking when a later part holds an `@`).
 */
export function redactUrl(url: string): string {
  let out = url.replace(/([?&](?:password|sslpassword)=)[^&#]*/gi, "$1***");
  const scheme = out.indexOf("://");
  const at = out.lastIndexOf("@");
  if (scheme >= 0 && at > scheme) {
    const userinfo = out.slice(scheme + 3, at);
    const colon = userinfo.indexOf(":");
    if (colon >= 0 && colon < userinfo.length - 1) out = `${out.slice(0, scheme + 3)}${userinfo.slice(0, colon)}:***${out.slice(at)}`;
  }
  return out;
}

const refuse = (message: string, fix: string): MigrationUrlCheck => ({ ok: false, message, fix });

/**
 * Checks the migration database URL before connecting. Refuses: a URL that is not
 * `postgres://`/`postgresql://` with a host; a Neon pooled (`-pooler`) host, naming the direct
 * host; a Neon host without TLS (no `sslmode`, or `disable`/`allow`/`prefer`/`no-verify`, and no
 * truthy `sslOption`); TLS given both in the URL and as `sslOption` (node-postgres silently lets the
 * URL win); an unknown `sslmode`. Non-Neon hosts (localhost, CI Postgres) need no TLS.
 * `opts.sslOption` is the `ssl` value that would be passed to `pg` next to the URL (`undefined` = none).
 * Messages never contain the password. Never throws.
 */
export function checkMigrationUrl(url: string, opts: { sslOption?: unknown } = {}): MigrationUrlCheck {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return refuse(
      "the migration database URL is not a valid URL (multi-host and key=value connection strings are not supported)",
      "set it to postgresql://<user>:<password>@<host>/<database>?sslmode=require, with special characters in the password percent-encoded",
    );
  }
  if (u.pathname.includes("@")) {
    // `u:pa/ss@host` parses as host "u", path "/ss@host": the password would show up as host or path.
    return refuse(
      "the migration database URL has an @ after the host; the password probably contains an unencoded /, ? or #",
      "percent-encode special characters in the password (encodeURIComponent) and set the URL again",
    );
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    return refuse(
      `the migration database URL has scheme "${u.protocol}"; expected postgresql:// or postgres://`,
      "use the postgresql:// connection string from the Neon console (Direct connection)",
    );
  }
  let host: string;
  try {
    host = (u.searchParams.get("host") ?? decodeURIComponent(u.hostname)).toLowerCase();
  } catch {
    host = u.hostname.toLowerCase();
  }
  if (host === "") {
    return refuse(`the migration database URL has no host (${redactUrl(url)})`, "put the database host after @ in the URL");
  }
  const shown = redactUrl(url);
  const neon = isNeonHost(host);
  const warnings: string[] = [];

  const endpoint = host.split(".")[0] ?? "";
  if (neon && endpoint.endsWith("-pooler")) {
    const direct = neonDirectHost(host);
    return refuse(
      `the migration URL points at Neon's pooled endpoint ${host}; PgBouncer transaction pooling breaks postgres-migrations' session advisory lock, so two deploys could migrate at once. Use the direct host ${direct}`,
      `replace the host with ${direct} (drop "-pooler"), e.g. the console's "Direct connection" string`,
    );
  }

  const sslmode = u.searchParams.get("sslmode");
  const urlTls = URL_TLS_PARAMS.filter((p) => u.searchParams.has(p));
  if (opts.sslOption !== undefined && urlTls.length > 0) {
    return refuse(
      `TLS is given twice: ${urlTls.map((p) => `${p}=${u.searchParams.get(p)}`).join("&")} in the URL and an explicit ssl option; node-postgres lets the URL silently override the option`,
      "pick one: keep sslmode in the URL and drop the ssl option, or remove the ssl parameters from the URL",
    );
  }
  if (sslmode !== null && !KNOWN_SSLMODES.has(sslmode)) {
    return refuse(
      `sslmode=${sslmode} in the migration URL is not a known sslmode (${shown})`,
      "use sslmode=require or sslmode=verify-full",
    );
  }
  if (neon) {
    const optionTls = opts.sslOption !== undefined && opts.sslOption !== false && opts.sslOption !== null;
    const urlHasTls = sslmode !== null && TLS_MODES.has(sslmode);
    if (!urlHasTls && !optionTls) {
      const seen =
        sslmode !== null
          ? `sslmode=${sslmode}`
          : opts.sslOption !== undefined
            ? `ssl option ${String(opts.sslOption)}`
            : u.searchParams.has("ssl")
              ? `ssl=${u.searchParams.get("ssl")} without sslmode (a node-postgres-only spelling other clients ignore)`
              : "no sslmode";
      return refuse(
        `Neon needs TLS but the migration URL for ${host} has ${seen}; Neon rejects it ("connection is insecure") or it may fall back to plain text`,
        "add sslmode=require (or sslmode=verify-full) to the URL",
      );
    }
  }
  if (u.searchParams.has("connect_timeout")) {
    warnings.push(
      `connect_timeout=${u.searchParams.get("connect_timeout")} in the URL is ignored by node-postgres; the migrate step uses its own connect timeout (${MIGRATION_CONNECT_TIMEOUT_MS} ms)`,
    );
  }
  if (u.pathname === "" || u.pathname === "/") {
    warnings.push(`the migration URL for ${host} names no database; node-postgres then uses the user name as the database`);
  }
  if (!neon && !LOCAL_HOSTS.test(host) && (sslmode === null || sslmode === "disable")) {
    warnings.push(`the migration URL for ${host} does not use TLS (${sslmode === null ? "no sslmode" : "sslmode=disable"})`);
  }
  return { ok: true, host, direct: true, neon, warnings };
}

/** How a connect failure should be handled (C-16). */
export interface ConnectErrorClass {
  /** Retry the connect with backoff. Only connect-phase failures are ever retried. */
  retry: boolean;
  /** Short reason for the log line, without values from the URL. */
  reason: string;
}

const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "EPIPE"]);
/** SQLSTATEs a waking or restarting compute answers with. */
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "08000", "08001", "08003", "08006"]);

/**
 * Classifies an error thrown while *connecting* (before any SQL ran). Retry: network errors
 * (ECONNREFUSED, ETIMEDOUT, …), the driver's connect timeout, Neon's "Couldn't connect to compute
 * node", and SQLSTATE 57P0x/53300/08xxx. Never retry: authentication (28xxx), TLS refusals
 * ("connection is insecure"), unknown database (3D000), or anything else. Call it only for the
 * connect phase; errors from SQL are never retried.
 */
export function classifyConnectError(err: unknown): ConnectErrorClass {
  const e = (typeof err === "object" && err !== null ? err : {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "";
  const message = typeof e.message === "string" ? e.message : String(err);
  if (code.startsWith("28")) return { retry: false, reason: `authentication failed (SQLSTATE ${code})` };
  if (code === "3D000") return { retry: false, reason: "the database does not exist (SQLSTATE 3D000)" };
  if (/connection is insecure|sslmode/i.test(message)) return { retry: false, reason: "the server requires TLS" };
  if (TRANSIENT_CODES.has(code)) return { retry: true, reason: `network error ${code} (the compute may be waking up)` };
  if (TRANSIENT_SQLSTATES.has(code)) return { retry: true, reason: `the server is not accepting connections yet (SQLSTATE ${code})` };
  if (/timeout expired|connection timeout|Connection terminated unexpectedly/i.test(message)) {
    return { retry: true, reason: "the connect timed out (a suspended Neon compute can take seconds to start)" };
  }
  if (/couldn't connect to compute node|compute is starting|terminating connection due to administrator command/i.test(message)) {
    return { retry: true, reason: "the Neon compute is starting or restarting" };
  }
  return { retry: false, reason: code ? `error ${code}` : "not a transient connect error" };
}
