/**
 * Nothing secret in a fly.toml `[env]`: fly.toml is committed, and `[env]` values are plain
 * configuration (shown by `fly config show`, kept in every release). Credentials belong in Fly
 * secrets (`ops:secrets sync`). Messages name `file:line` and the key, never the value.
 */
import { parse } from "smol-toml";
import { TomlLocations } from "./toml-locations.ts";
import type { CheckResult } from "./types.ts";

/** Why a name or value looks like a credential, or `undefined` when it does not. */
export type CredentialReason = string | undefined;

/** Words that make a variable name a secret when they end it (`API_TOKEN`, `SESSION_SECRET`, `STRIPE_KEY`). */
const SECRET_LAST_WORDS = new Set(["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PWD", "KEY", "APIKEY", "CREDENTIALS", "PASSPHRASE"]);
/** Words that make a name a secret anywhere in it (`DB_PASSWORD_V2`, `SECRET_KEY_BASE`). */
const SECRET_ANY_WORDS = new Set(["PASSWORD", "PASSWD", "SECRET", "PASSPHRASE"]);
/** Last words that name where a secret is, or something about it, not the secret itself (`DB_PASSWORD_FILE`, `TOKEN_TTL`). */
const REFERENCE_LAST_WORDS = new Set([
  "FILE",
  "PATH",
  "DIR",
  "NAME",
  "ID",
  "TTL",
  "DAYS",
  "SECONDS",
  "HEADER",
  "URL_PATH",
  "ENV",
  "LENGTH",
  "BYTES",
]);

/**
 * Whether an environment variable name says it holds a secret: a last word TOKEN / SECRET /
 * PASSWORD / KEY…, PASSWORD or SECRET anywhere, or DATABASE_URL. `PUBLIC_KEY`, and names ending in
 * FILE, PATH, NAME, ID, TTL, DAYS… (about a secret, not the secret) are not.
 */
export function secretName(name: string): CredentialReason {
  const words = name.toUpperCase().split("_").filter(Boolean);
  const last = words.at(-1) ?? "";
  if (name.toUpperCase() === "DATABASE_URL" || name.toUpperCase().endsWith("_DATABASE_URL"))
    return "the name says it is a database URL, which carries the password";
  if (REFERENCE_LAST_WORDS.has(last)) return undefined;
  if (last === "KEY" && words.at(-2) === "PUBLIC") return undefined;
  if (SECRET_LAST_WORDS.has(last)) return `the name ends in ${last}`;
  const any = words.find((w) => SECRET_ANY_WORDS.has(w));
  return any ? `the name contains ${any}` : undefined;
}

/** Prefixes of credentials issued by well-known services (public formats; the prefix alone is not secret). */
const TOKEN_PREFIXES: [RegExp, string][] = [
  [/^FlyV1 /, "a Fly.io token (FlyV1 …)"],
  [/^fo1_[A-Za-z0-9_-]{20,}/, "a Fly.io token (fo1_…)"],
  [/^(sk|rk)_(live|test)_[A-Za-z0-9]{10,}/, "a Stripe secret key"],
  [/^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}/, "a GitHub token"],
  [/^github_pat_[A-Za-z0-9_]{30,}/, "a GitHub token"],
  [/^glpat-[A-Za-z0-9_-]{20,}/, "a GitLab token"],
  [/^xox[abposr]-[A-Za-z0-9-]{10,}/, "a Slack token"],
  [/^(AKIA|ASIA)[0-9A-Z]{16}$/, "an AWS access key id"],
  [/^npm_[A-Za-z0-9]{30,}/, "an npm token"],
  [/^napi_[A-Za-z0-9]{30,}/, "a Neon API key"],
  [/^sk-[A-Za-z0-9_-]{20,}/, "an API secret key (sk-…)"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [/^eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}$/, "a JSON Web Token"],
];

/** Shannon entropy of `text` in bits per character. */
function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / text.length) * Math.log2(n / text.length);
  return h;
}

/**
 * Whether a value looks like a credential: a URL with a password, a known token prefix, or a long
 * random-looking string (≥ 32 characters of one token alphabet, mixing upper case, lower case and
 * digits, entropy ≥ 4 bits per character; hex only from 64 characters). UUIDs, URLs without a
 * password, paths, host:port and words pass. `publicName`: the variable's name says the value is
 * public (`JWT_PUBLIC_KEY`), so a random-looking value is expected and only the first two rules apply.
 */
export function secretValue(value: string, publicName = false): CredentialReason {
  const v = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try {
      if (new URL(v).password !== "") return "it is a URL with a password";
    } catch {
      // not a URL the WHATWG parser reads: fall through to the token rules
    }
    return undefined;
  }
  for (const [re, what] of TOKEN_PREFIXES) if (re.test(v)) return `it looks like ${what}`;
  if (publicName) return undefined;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v)) return undefined;
  if (/^[0-9a-f]+$/i.test(v)) return v.length >= 64 ? `it is a ${v.length}-character hex string (a key or token)` : undefined;
  if (v.length >= 32 && /^[A-Za-z0-9+/=_-]+$/.test(v) && /[A-Z]/.test(v) && /[a-z]/.test(v) && /\d/.test(v) && entropy(v) >= 4) {
    return `it is a ${v.length}-character random-looking string (a key or token)`;
  }
  return undefined;
}

/**
 * Checks a fly.toml's `[env]` for credentials: a `fail` per key whose name or value says it is a
 * secret, at `file:line`, naming the key and why, never the value. No result when `[env]` is clean
 * or the TOML does not parse (the fly.toml checks report that).
 */
export function checkFlyTomlEnvSecrets(tomlText: string, where: string): CheckResult[] {
  let env: unknown;
  try {
    env = (parse(tomlText) as Record<string, unknown>).env;
  } catch {
    return [];
  }
  if (typeof env !== "object" || env === null || Array.isArray(env)) return [];
  const locations = new TomlLocations(tomlText);
  const results: CheckResult[] = [];
  for (const [key, raw] of Object.entries(env)) {
    const value = typeof raw === "string" ? raw : String(raw);
    const publicName = key.toUpperCase().split("_").includes("PUBLIC");
    const reason = secretValue(value, publicName) ?? (value.trim() === "" ? undefined : secretName(key));
    if (!reason) continue;
    const line = locations.lineOf(["env", key]);
    const at = line ? `${where}:${line}` : `${where} [env].${key}`;
    results.push({
      id: "fly.toml.env-secret",
      status: "fail",
      message: `${at}: [env] ${key} looks like a credential (${reason}); fly.toml is committed and [env] values are plain config shown by fly config show (the value is not printed here)`,
      where: at,
      fix: `remove ${key} from [env] in ${where}, put it in the secrets file and in the app's secrets in ops.config.ts (ops:secrets sync sets it as a Fly secret), and rotate it: it is in the git history`,
    });
  }
  return results;
}
