import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import repoConfig from "../../../../ops.config.ts";
import { parseOpsConfig } from "../../src/config/load.ts";
import { readOpsEnv } from "../../src/env.ts";
import { SecretsError } from "../../src/errors.ts";
import { localPaths } from "../../src/local/paths.ts";
import { declaredSecretKeys, knownSecretValues, LOCAL_PG_PASSWORD_KEY, resolveLocalSecrets } from "../../src/secrets/local-source.ts";

const config = parseOpsConfig(repoConfig);
let dir: string;
let stateDir: string;
let generatedFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-local-secrets-"));
  stateDir = join(dir, ".ops");
  generatedFile = localPaths(stateDir, "local").secretsFile;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (vars: Record<string, string> = {}) => readOpsEnv({ OPS_REPO_ROOT: dir, OPS_STATE_DIR: stateDir, ...vars }, { cwd: dir });
const reveal = (m: Map<string, { reveal(): string }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.reveal()]));

function givenFile(text: string, mode = 0o600): string {
  const path = join(dir, ".env.local");
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe("resolveLocalSecrets", () => {
  it("declares the keys of every app once, in deploy order", () => {
    expect(declaredSecretKeys(config)).toEqual([
      "DATABASE_URL",
      "BACKEND_AUTH_TOKEN",
      "AUTHENTIK_SECRET_KEY",
      "AUTHENTIK_POSTGRESQL__HOST",
      "AUTHENTIK_POSTGRESQL__NAME",
      "AUTHENTIK_POSTGRESQL__USER",
      "AUTHENTIK_POSTGRESQL__PASSWORD",
      "AUTHENTIK_POSTGRESQL__SSLMODE",
      "SESSION_SECRET",
    ]);
  });

  it("generates the declared development secrets once, into a 0600 file", () => {
    const first = resolveLocalSecrets(config, env(), { create: true });
    expect(first.generated).toEqual(["SESSION_SECRET", "BACKEND_AUTH_TOKEN", "AUTHENTIK_SECRET_KEY", LOCAL_PG_PASSWORD_KEY]);
    expect(statSync(generatedFile).mode & 0o777).toBe(0o600);
    const values = reveal(first.values);
    // The image-only app's generated key is made too (the same file works on fly); its other keys
    // (database settings) are not needed where it does not run.
    expect(Object.keys(values)).toEqual(["DATABASE_URL", "BACKEND_AUTH_TOKEN", "AUTHENTIK_SECRET_KEY", "SESSION_SECRET"]);
    expect(values.AUTHENTIK_SECRET_KEY).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(values.SESSION_SECRET).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(values.BACKEND_AUTH_TOKEN).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(values.SESSION_SECRET).not.toBe(values.BACKEND_AUTH_TOKEN);
    const pgPassword = first.postgresPassword!.reveal();
    expect(values.DATABASE_URL).toBe(`postgresql://postgres:${pgPassword}@127.0.0.1:54329/app`);
    expect(first.sources.get("DATABASE_URL")).toBe("embedded Postgres");
    expect(first.sources.get("SESSION_SECRET")).toBe(generatedFile);
    expect(first.warnings).toEqual([]);

    const fileBefore = readFileSync(generatedFile, "utf8");
    expect(fileBefore).toContain(`SESSION_SECRET=${values.SESSION_SECRET}\n`);
    const second = resolveLocalSecrets(config, env(), { create: true });
    expect(second.generated).toEqual([]);
    expect(reveal(second.values)).toEqual(values);
    expect(readFileSync(generatedFile, "utf8")).toBe(fileBefore);
  });

  it("tightens a generated file whose mode was widened", () => {
    const first = resolveLocalSecrets(config, env(), { create: true });
    chmodSync(generatedFile, 0o644);
    const again = resolveLocalSecrets(config, env(), { create: true });
    expect(statSync(generatedFile).mode & 0o777).toBe(0o600);
    expect(again.generated).toEqual([]);
    expect(reveal(again.values)).toEqual(reveal(first.values));
  });

  it("a dry run (create: false) writes nothing and does not fail on keys that would be generated", () => {
    const r = resolveLocalSecrets(config, env(), { create: false });
    expect(r.generated).toEqual([]);
    expect(r.values.size).toBe(0);
    expect(existsSync(generatedFile)).toBe(false);
  });

  it("uses a given secrets file and does not generate its keys", () => {
    const file = givenFile("SESSION_SECRET=given-session-value\nBACKEND_AUTH_TOKEN=given-token-value\n");
    const r = resolveLocalSecrets(config, env({ OPS_SECRETS_FILE: file, DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/app" }), {
      create: true,
    });
    expect(reveal(r.values)).toEqual({
      DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/app",
      BACKEND_AUTH_TOKEN: "given-token-value",
      SESSION_SECRET: "given-session-value",
    });
    expect(r.sources.get("SESSION_SECRET")).toBe(file);
    expect(r.sources.get("BACKEND_AUTH_TOKEN")).toBe(file);
    expect(r.generated).toEqual([]);
    expect(existsSync(generatedFile)).toBe(false);
  });

  it("with a given file and the embedded Postgres, only the Postgres password is generated", () => {
    const file = givenFile("SESSION_SECRET=given-session-value\nBACKEND_AUTH_TOKEN=given-token-value\n");
    const r = resolveLocalSecrets(config, env({ OPS_SECRETS_FILE: file }), { create: true });
    expect(r.generated).toEqual([LOCAL_PG_PASSWORD_KEY]);
    const stored = readFileSync(generatedFile, "utf8");
    expect(stored).toContain(`${LOCAL_PG_PASSWORD_KEY}=`);
    expect(stored).not.toContain("SESSION_SECRET");
    expect(stored).not.toContain("BACKEND_AUTH_TOKEN");
    expect(r.values.get("SESSION_SECRET")!.reveal()).toBe("given-session-value");
    expect(r.sources.get("DATABASE_URL")).toBe("embedded Postgres");
  });

  it("warns about a given file readable by others", () => {
    const file = givenFile("SESSION_SECRET=given-session-value\nBACKEND_AUTH_TOKEN=given-token-value\n", 0o644);
    const r = resolveLocalSecrets(config, env({ OPS_SECRETS_FILE: file, DATABASE_URL: "postgresql://u:p@h/app" }), { create: true });
    expect(r.warnings).toEqual([`${file} has mode 0644, wider than 0600; set it to 0600 (chmod 600 ${file})`]);
  });

  it("a key missing from the given file is an error naming the app, the key and the closest key", () => {
    const file = givenFile("SESSION_SECRET=given-session-value\nBACKEND_AUTH_TOKN=typo-value\n");
    let err: unknown;
    try {
      resolveLocalSecrets(config, env({ OPS_SECRETS_FILE: file, DATABASE_URL: "postgresql://u:p@h/app" }), { create: true });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SecretsError);
    const e = err as SecretsError;
    expect(e.message).toBe(
      `secrets missing:\n  apps.backend.secrets[1]: "BACKEND_AUTH_TOKEN" is not in ${file}; did you mean BACKEND_AUTH_TOKN?`,
    );
    expect(e.message).not.toContain("typo-value");
    expect(e.where).toBe(file);
    expect(e.fix).toBe(`Add the keys to ${file}, or fix the names in ops.config.ts.`);
  });

  it("a given file that does not exist is an error", () => {
    const missing = join(dir, "nope.env");
    expect(() => resolveLocalSecrets(config, env({ OPS_SECRETS_FILE: missing }), { create: true })).toThrow(
      `secrets file ${missing} (OPS_SECRETS_FILE) does not exist`,
    );
  });

  it("DATABASE_URL from the environment wins over the embedded Postgres", () => {
    // a first run made the embedded Postgres password
    const first = resolveLocalSecrets(config, env(), { create: true });
    expect(first.sources.get("DATABASE_URL")).toBe("embedded Postgres");
    const url = "postgresql://me:external-pw@10.0.0.5:5432/app";
    const r = resolveLocalSecrets(config, env({ DATABASE_URL: url }), { create: true });
    expect(r.values.get("DATABASE_URL")!.reveal()).toBe(url);
    expect(r.sources.get("DATABASE_URL")).toBe("DATABASE_URL (environment)");
    expect(r.generated).toEqual([]);
  });

  it("with DATABASE_URL set, no Postgres password is generated", () => {
    const r = resolveLocalSecrets(config, env({ DATABASE_URL: "postgresql://me:pw@10.0.0.5/app" }), { create: true });
    expect(r.generated).toEqual(["SESSION_SECRET", "BACKEND_AUTH_TOKEN", "AUTHENTIK_SECRET_KEY"]);
    expect(r.postgresPassword).toBeUndefined();
    expect(readFileSync(generatedFile, "utf8")).not.toContain(LOCAL_PG_PASSWORD_KEY);
  });
});

describe("knownSecretValues", () => {
  it("collects the generated, given and environment values for the redactor", () => {
    const file = givenFile("SESSION_SECRET=given-session-value\nBACKEND_AUTH_TOKEN=given-token-value\n");
    const e = env({ OPS_SECRETS_FILE: file, DATABASE_URL: "postgresql://u:db-pw@h/app", FLY_API_TOKEN: "fly-token-value" });
    resolveLocalSecrets(config, e, { create: true });
    const values = knownSecretValues(e).map((s) => s.reveal());
    expect(values).toEqual(
      expect.arrayContaining(["given-session-value", "given-token-value", "postgresql://u:db-pw@h/app", "fly-token-value"]),
    );
  });
});
