import { existsSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { OpsConfig } from "../config/schema.ts";
import { closest } from "../text/did-you-mean.ts";
import type { OpsEnv } from "../env.ts";
import { SecretsError } from "../errors.ts";
import { parseSecretsFile } from "./dotenv-dialect.ts";
import { declaredSecretKeys } from "./local-source.ts";
import type { Secret } from "./secret.ts";

/** `.env.<environment>` at the repository root, or `OPS_SECRETS_FILE`. */
export function flySecretsFilePath(env: OpsEnv): string {
  return env.secretsFile ?? join(env.repoRoot, `.env.${env.environment}`);
}

export interface FlySecrets {
  values: Map<string, Secret>;
  /** `file` (the git-ignored secrets file) or `environment` (`OPS_SECRET_<KEY>` variables, CI). */
  source: string;
  warnings: string[];
  /** The dialect's warnings about the file's lines and encoding (each names `file:line` and key; a subset of `warnings`). */
  fileWarnings: string[];
}

/**
 * The production secrets: the secrets file if it exists, else `OPS_SECRET_<KEY>` variables.
 * Every key some app declares must be present.
 * @throws {SecretsError} naming the missing keys (and the closest names present), or a malformed file's line.
 */
export function resolveFlySecrets(config: OpsConfig, env: OpsEnv): FlySecrets {
  const file = flySecretsFilePath(env);
  const shown = relative(env.repoRoot, file) || file;
  let values: Map<string, Secret>;
  let source: string;
  const warnings: string[] = [];
  const fileWarnings: string[] = [];
  if (existsSync(file)) {
    const parsed = parseSecretsFile(readFileSync(file), shown);
    warnings.push(...parsed.warnings);
    fileWarnings.push(...parsed.warnings);
    values = new Map(parsed.entries.map((e) => [e.key, e.value]));
    source = shown;
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) warnings.push(`${shown} has mode ${mode.toString(8).padStart(4, "0")}; it must be 0600 (chmod 600 ${shown})`);
  } else if (env.secretEnv.size > 0) {
    values = new Map(env.secretEnv);
    source = "OPS_SECRET_* environment variables";
  } else {
    throw new SecretsError(`no secrets: ${shown} does not exist and no OPS_SECRET_<KEY> variables are set`, {
      where: shown,
      fix: `Create ${shown} (mode 0600, git-ignored) with ${declaredSecretKeys(config).join(", ")}, or pass them as OPS_SECRET_<KEY> in CI.`,
    });
  }
  const missing = declaredSecretKeys(config).filter((k) => !values.has(k));
  if (missing.length > 0) {
    const lines = missing.map((k) => {
      const app = config.deployOrder.find((a) => config.apps[a]?.secrets.includes(k))!;
      const near = closest(k, [...values.keys()]);
      return `apps.${app}.secrets[${config.apps[app]!.secrets.indexOf(k)}]: "${k}" is not in ${source}${near ? `; did you mean ${near}?` : ""}`;
    });
    throw new SecretsError(`secrets missing:\n  ${lines.join("\n  ")}`, {
      where: source,
      fix: `Add the keys to ${source}, or fix the names in ops.config.ts.`,
    });
  }
  return { values, source, warnings, fileWarnings };
}
