import { describe, expect, it } from "vitest";
import { checkFlyTomlEnvSecrets, secretName, secretValue } from "../../src/preflight/fly-toml-env-secrets.ts";

const toml = (env: string) => `app = "a"\nprimary_region = "iad"\n\n[env]\n${env}\n\n[http_service]\n  internal_port = 3000\n`;

describe("checkFlyTomlEnvSecrets", () => {
  it.each<[string, string, string]>([
    [
      "a URL with a password",
      'CACHE_URL = "redis://default:Zx9pQ2rT@cache.internal:6379"',
      "CACHE_URL looks like a credential (it is a URL with a password)",
    ],
    [
      "a postgres URL under another name",
      'PRIMARY = "postgresql://app:s3cr3t@ep-x.neon.tech/db?sslmode=require"',
      "PRIMARY looks like a credential (it is a URL with a password)",
    ],
    [
      "DATABASE_URL even without a password",
      'DATABASE_URL = "postgresql://app@ep-x.neon.tech/db"',
      "DATABASE_URL looks like a credential (the name says it is a database URL, which carries the password)",
    ],
    ["a *_TOKEN name", 'BACKEND_AUTH_TOKEN = "dev"', "BACKEND_AUTH_TOKEN looks like a credential (the name ends in TOKEN)"],
    ["a *_SECRET name", 'SESSION_SECRET = "changeme"', "SESSION_SECRET looks like a credential (the name ends in SECRET)"],
    ["PASSWORD inside a name", 'DB_PASSWORD_V2 = "x"', "DB_PASSWORD_V2 looks like a credential (the name contains PASSWORD)"],
    ["a *_KEY name", 'STRIPE_KEY = "abc"', "STRIPE_KEY looks like a credential (the name ends in KEY)"],
    ["SECRET_KEY_BASE", 'SECRET_KEY_BASE = "abc"', "SECRET_KEY_BASE looks like a credential (the name contains SECRET)"],
    [
      "a Stripe key under a harmless name",
      'PAYMENTS = "sk_live_51HxYzAbCdEfGhIjKl"',
      "PAYMENTS looks like a credential (it looks like a Stripe secret key)",
    ],
    ["a GitHub token", 'GH = "ghp_0123456789abcdefghijABCDEFGHIJ0123"', "GH looks like a credential (it looks like a GitHub token)"],
    [
      "a JWT",
      'AUTH = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"',
      "AUTH looks like a credential (it looks like a JSON Web Token)",
    ],
    [
      "a random base64 string",
      'SIGNING = "q8Vb3LkP0xZr7TnWm2YhQe5JsDc9GfA1"',
      "SIGNING looks like a credential (it is a 32-character random-looking string (a key or token))",
    ],
    [
      "a 64-character hex key",
      `ENC = "${"a3f9".repeat(4)}${"0b7e5c1d".repeat(6)}"`,
      "ENC looks like a credential (it is a 64-character hex string (a key or token))",
    ],
  ])("fails on %s, naming file:line and key, never the value", (_name, line, expected) => {
    const text = toml(`  LOG_LEVEL = "info"\n  ${line}`);
    const results = checkFlyTomlEnvSecrets(text, "infra/fly/client.fly.toml");
    expect(results).toHaveLength(1);
    const r = results[0]!;
    expect(r.status).toBe("fail");
    expect(r.where).toBe("infra/fly/client.fly.toml:6");
    expect(r.message).toBe(
      `infra/fly/client.fly.toml:6: [env] ${expected}; fly.toml is committed and [env] values are plain config shown by fly config show (the value is not printed here)`,
    );
    const value = /=\s*"(.*)"/.exec(line)![1]!;
    expect(r.message).not.toContain(value);
    expect(r.fix).not.toContain(value);
    expect(r.fix).toMatch(/^remove \S+ from \[env\] in infra\/fly\/client\.fly\.toml, put it in the secrets file/);
  });

  it("reports every credential with its own line, in inline and dotted forms too", () => {
    const text = 'app = "a"\nenv.API_TOKEN = "t"\n[http_service]\n  internal_port = 3000\n';
    expect(checkFlyTomlEnvSecrets(text, "f.toml").map((r) => r.where)).toEqual(["f.toml:2"]);
    const two = toml('  A_TOKEN = "x"\n  PORT = "3000"\n  B_SECRET = "y"');
    expect(checkFlyTomlEnvSecrets(two, "f.toml").map((r) => r.where)).toEqual(["f.toml:5", "f.toml:7"]);
  });

  it.each([
    ['LOG_LEVEL = "debug"'],
    ['PORT = "8080"'],
    ["PORT = 8080"],
    ['PUBLIC_URL = "https://x.fly.dev"'],
    ['BACKEND_GRPC_ADDR = "deploy-ops-backend.internal:50051"'],
    ['KEY_ROTATION_DAYS = "30"'],
    ['TOKEN_TTL = "3600"'],
    ['DB_PASSWORD_FILE = "/run/secrets/db"'],
    ['JWT_PUBLIC_KEY = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"'],
    ['SESSION_SECRET = ""'],
    ['NODE_ENV = "production"'],
    ['GRPC_PROTO_ROOT = "/app/proto"'],
    ['REQUEST_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"'],
    ['GIT_SHA = "3881261c0ffee5d1e7a4b2c9d8e7f6a5b4c3d2e1"'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT = "https://user@otel.example.com:4318"'],
    ['FEATURE_FLAGS = "new-checkout,fast-search,dark-mode-default-on"'],
    ['SENTRY_ENVIRONMENT = "production-primary-iad-region-01"'],
  ])("passes the near-miss %s", (line) => {
    expect(checkFlyTomlEnvSecrets(toml(`  ${line}`), "f.toml")).toEqual([]);
  });

  it("says nothing when the TOML does not parse or has no [env]", () => {
    expect(checkFlyTomlEnvSecrets("app = \n", "f.toml")).toEqual([]);
    expect(checkFlyTomlEnvSecrets('app = "a"\n', "f.toml")).toEqual([]);
  });
});

describe("secretName / secretValue", () => {
  it.each([["API_KEY"], ["api_key"], ["TOKEN"], ["NEON_API_KEY"], ["MY_DATABASE_URL"], ["SMTP_PASSWD"]])("%s is a secret name", (n) => {
    expect(secretName(n)).toBeDefined();
  });
  it.each([["KEYBOARD_LAYOUT"], ["PUBLIC_KEY"], ["MONKEY"], ["TOKENIZER_MODEL"], ["SECRETS_DIR"], ["DATABASE_POOL_SIZE"]])(
    "%s is not",
    (n) => {
      expect(secretName(n)).toBeUndefined();
    },
  );
  it("a URL the WHATWG parser gives a password to is a credential, percent-encoded too", () => {
    expect(secretValue("postgres://u:p%40ss@h/db")).toBe("it is a URL with a password");
    expect(secretValue("https://u@h/")).toBeUndefined();
  });
});
