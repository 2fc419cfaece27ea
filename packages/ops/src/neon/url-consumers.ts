/**
 * A database URL read the way the program that will use it reads it. Two consumers:
 *
 * - **node-postgres** (ops' migrate step, node apps): the URL goes through `pg-connection-string`,
 *   the parser `pg` uses, called here as the real library.
 * - **pgx** (the Go backend, `pgxpool.ParseConfig`): Go cannot run here, so its rules are restated
 *   from pgx's public source for the version in apps/backend/go.mod (v5.8.0, `pgconn/config.go`:
 *   `ParseConfigWithOptions`, `parseURLSettings`, `configTLS`, `notRuntimeParams`; `pgxpool/pool.go`
 *   `ParseConfig`) and Go's `net/url` (`url.Parse`: the fragment is cut at the first `#`, the query
 *   at the first `?`, the authority ends at the first `/`, the user info at the last `@` of the
 *   authority, and only `A-Za-z0-9-._:~!$&'()*+,;=%@` may appear in it).
 *
 * What either consumer would read differently from what the author wrote (an unencoded `/ ? #` or
 * `@` in the password moves the host) or does not support (`channel_binding` in pgx v5.8.0, which
 * would be sent to the server as a startup parameter; `sslmode=no-verify` outside node-postgres)
 * is refused. Messages name the consumer and the parameter; they never hold the password.
 */
import { parse as pgParse } from "pg-connection-string";

/** A program that will parse the URL. */
export type DbUrlConsumer = { kind: "node-postgres"; name: string } | { kind: "pgx"; name: string; version: string };

/** One finding about a URL for one consumer. */
export interface DbUrlFinding {
  status: "fail" | "warn";
  /** What is wrong, naming the consumer and the parameter; never the password. */
  message: string;
  fix: string;
}

/** sslmode values pgx v5 knows (`configTLS`: anything else is "sslmode is invalid"). */
const PGX_SSLMODES = new Set(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]);
/** sslmode values node-postgres knows (`pg-connection-string`; `no-verify` is its own). */
const PG_SSLMODES = new Set(["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"]);
/** URL parameters pgx v5.8.0 reads itself (`notRuntimeParams`, `dbname`, pgx.Conn and pgxpool settings); any other is sent to the server as a startup parameter. */
const PGX_OWN_PARAMS = new Set([
  "host",
  "port",
  "database",
  "dbname",
  "user",
  "password",
  "passfile",
  "connect_timeout",
  "sslmode",
  "sslkey",
  "sslcert",
  "sslrootcert",
  "sslnegotiation",
  "sslpassword",
  "sslsni",
  "krbspn",
  "krbsrvname",
  "target_session_attrs",
  "service",
  "servicefile",
  "statement_cache_capacity",
  "description_cache_capacity",
  "default_query_exec_mode",
  "pool_max_conns",
  "pool_min_conns",
  "pool_min_idle_conns",
  "pool_max_conn_lifetime",
  "pool_max_conn_idle_time",
  "pool_health_check_period",
  "pool_max_conn_lifetime_jitter",
]);
/** Client-side options of libpq or node-postgres that are not server settings: pgx would send them as startup parameters and the server refuses the connection. */
const CLIENT_ONLY_PARAMS = new Set([
  "channel_binding",
  "ssl",
  "uselibpqcompat",
  "gssencmode",
  "sslcompression",
  "sslcrl",
  "sslcrldir",
  "sslcertmode",
  "ssl_min_protocol_version",
  "ssl_max_protocol_version",
  "require_auth",
  "keepalives",
  "keepalives_idle",
  "keepalives_interval",
  "keepalives_count",
  "tcp_user_timeout",
  "hostaddr",
  "load_balance_hosts",
  "requirepeer",
  "fallback_application_name",
  "gsslib",
  "gssdelegation",
]);
const PGX_TARGET_SESSION_ATTRS = new Set(["any", "read-write", "read-only", "primary", "standby", "prefer-standby"]);
/** Characters Go's url.Parse accepts unescaped in user info (`validUserinfo`). */
const GO_USERINFO = /^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/;

/** What the author most likely wrote: user info up to the last `@` before the query, host after it. */
interface Written {
  scheme: string;
  user: string;
  password: string | undefined;
  hostPart: string;
}

function written(url: string): Written | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  if (!m) return undefined;
  const rest = url.slice(m[0].length);
  const at = rest.lastIndexOf("@");
  const info = at === -1 ? "" : rest.slice(0, at);
  const after = at === -1 ? rest : rest.slice(at + 1);
  const colon = info.indexOf(":");
  return {
    scheme: m[1]!.toLowerCase(),
    user: colon === -1 ? info : info.slice(0, colon),
    password: at === -1 ? undefined : colon === -1 ? undefined : info.slice(colon + 1),
    hostPart: after.split(/[/?#]/)[0] ?? "",
  };
}

const fail = (message: string, fix: string): DbUrlFinding => ({ status: "fail", message, fix });
const ENCODE_FIX =
  "percent-encode the password (encodeURIComponent: @ → %40, / → %2F, ? → %3F, # → %23, space → %20) and set the URL again";

/** Raw-text problems every consumer shares: reserved characters in the password, which parsers split on. */
function reservedInPassword(w: Written, label: string, consumer: DbUrlConsumer): DbUrlFinding[] {
  if (w.password === undefined) return [];
  const chars = [...new Set([...w.password].filter((c) => "@/?#".includes(c)))];
  if (chars.length === 0) return [];
  const moves = chars.some((c) => c !== "@");
  return [
    fail(
      `${label}: the password holds an unencoded ${chars.map((c) => `"${c}"`).join(", ")}; ${
        moves
          ? `${consumer.name} (${consumer.kind}) ends the host part there, so it would connect to another host with a cut password`
          : `${consumer.name} (${consumer.kind}) happens to split at the last "@", but psql and libpq split at the first one: the URL means different hosts to different tools`
      } (the password is not shown)`,
      ENCODE_FIX,
    ),
  ];
}

/** node-postgres: parse with pg-connection-string and compare with what was written. */
function forNodePostgres(url: string, w: Written, label: string, consumer: DbUrlConsumer): DbUrlFinding[] {
  let cfg: ReturnType<typeof pgParse>;
  try {
    cfg = pgParse(url);
  } catch {
    return [
      fail(`${label}: ${consumer.name} (node-postgres, pg-connection-string) cannot parse the URL (the text is not shown)`, ENCODE_FIX),
    ];
  }
  const out: DbUrlFinding[] = [];
  let intendedPassword: string | undefined;
  try {
    intendedPassword = w.password === undefined ? undefined : decodeURIComponent(w.password);
  } catch {
    intendedPassword = undefined;
  }
  if (w.password !== undefined && intendedPassword !== undefined && (cfg.password ?? "") !== intendedPassword) {
    out.push(
      fail(
        `${label}: ${consumer.name} (node-postgres) reads a different password than the one written (a "%" or space in it is read differently; the password is not shown)`,
        ENCODE_FIX,
      ),
    );
  }
  if (!cfg.host) out.push(fail(`${label}: ${consumer.name} (node-postgres) finds no host in the URL`, "put the database host after the @"));
  const sslmode = cfg.sslmode;
  if (typeof sslmode === "string" && !PG_SSLMODES.has(sslmode)) {
    out.push(
      fail(
        `${label}: sslmode=${sslmode} is not an sslmode ${consumer.name} (node-postgres) knows`,
        "use sslmode=require or sslmode=verify-full",
      ),
    );
  }
  return out;
}

/** pgx: Go net/url + pgconn rules (see the module docstring). */
function forPgx(url: string, w: Written, label: string, consumer: Extract<DbUrlConsumer, { kind: "pgx" }>): DbUrlFinding[] {
  const who = `${consumer.name} (pgx ${consumer.version})`;
  if (w.scheme !== "postgres" && w.scheme !== "postgresql") {
    return [
      fail(
        `${label}: ${who} reads a URL only with postgres:// or postgresql://; "${w.scheme}://" would be read as keyword=value text and fail`,
        "start the URL with postgresql://",
      ),
    ];
  }
  const out: DbUrlFinding[] = [];
  // Go: fragment first, then query, then authority up to the first "/"; user info ends at its last "@".
  const noFragment = url.slice(url.indexOf("://") + 3).split("#")[0]!;
  const [beforeQuery = "", query = ""] = splitOnce(noFragment, "?");
  const authority = beforeQuery.split("/")[0]!;
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at);
  if (!GO_USERINFO.test(userinfo)) {
    out.push(
      fail(
        `${label}: ${who} refuses the URL: the user or password holds a character Go's URL parser does not accept unencoded (net/url: invalid userinfo; the password is not shown)`,
        ENCODE_FIX,
      ),
    );
  } else if (/%(?![0-9a-fA-F]{2})/.test(userinfo)) {
    out.push(
      fail(
        `${label}: ${who} refuses the URL: a "%" in the user or password is not followed by two hex digits (net/url: invalid URL escape; the password is not shown)`,
        ENCODE_FIX,
      ),
    );
  }
  const params = new Map<string, string>();
  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const [k = "", v = ""] = splitOnce(pair, "=");
    let key = k;
    let value = v;
    try {
      key = decodeURIComponent(k.replace(/\+/g, " "));
      value = decodeURIComponent(v.replace(/\+/g, " "));
    } catch {
      // Go's Query() drops a pair it cannot decode; keep the raw text for the checks below
    }
    if (!params.has(key)) params.set(key, value);
  }
  for (const [key, value] of params) {
    if (key === "password" || key === "sslpassword") continue;
    if (key === "sslmode" && !PGX_SSLMODES.has(value)) {
      out.push(
        fail(
          `${label}: sslmode=${value} is not an sslmode ${who} knows (${[...PGX_SSLMODES].join(", ")}); it fails with "sslmode is invalid"${value === "no-verify" ? " (no-verify is node-postgres only)" : ""}`,
          "use sslmode=require or sslmode=verify-full",
        ),
      );
    } else if (key === "target_session_attrs" && !PGX_TARGET_SESSION_ATTRS.has(value)) {
      out.push(
        fail(
          `${label}: target_session_attrs=${value} is not a value ${who} knows`,
          `use one of ${[...PGX_TARGET_SESSION_ATTRS].join(", ")}, or drop it`,
        ),
      );
    } else if (CLIENT_ONLY_PARAMS.has(key) && !PGX_OWN_PARAMS.has(key)) {
      out.push(
        fail(
          `${label}: ${key}=${value} is not supported by ${who}: pgx sends unknown URL parameters to the server as settings, and the server refuses the connection (unrecognized configuration parameter "${key}")`,
          key === "channel_binding"
            ? `remove channel_binding from the URL the backend gets (pgx ${consumer.version} has no channel binding; TLS with sslmode=require or verify-full still protects the connection)`
            : `remove ${key} from the URL the backend gets`,
        ),
      );
    }
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i === -1 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

/**
 * Checks `url` for one consumer: refuses what it would read differently from what was written
 * (reserved characters in the password, a password it decodes differently), what it cannot parse,
 * and options it does not support. `label` says whose URL it is (`MIGRATION_DATABASE_URL`,
 * `DATABASE_URL of backend`). Findings never hold the password. An empty list means the consumer
 * reads the URL as written. Never throws.
 */
export function checkDatabaseUrlFor(url: string, consumer: DbUrlConsumer, label: string): DbUrlFinding[] {
  const trimmed = url.trim();
  const w = written(trimmed);
  if (!w) {
    return [
      fail(
        `${label}: ${consumer.name} expects a postgresql:// URL, but the value is not a URL (it is not shown)`,
        "set it to postgresql://<user>:<password>@<host>/<database>?sslmode=require",
      ),
    ];
  }
  const reserved = reservedInPassword(w, label, consumer);
  if (reserved.length > 0) return reserved;
  return consumer.kind === "pgx" ? forPgx(trimmed, w, label, consumer) : forNodePostgres(trimmed, w, label, consumer);
}

/** The pgx version a Go module requires (`github.com/jackc/pgx/v5 vX.Y.Z` in go.mod), or `undefined`. */
export function pgxVersionFromGoMod(goMod: string): string | undefined {
  return /^\s*(?:require\s+)?github\.com\/jackc\/pgx\/v\d+\s+(v\d+\.\d+\.\d+\S*)/m.exec(goMod)?.[1];
}
