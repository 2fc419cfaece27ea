import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors.ts";
import { prebuiltFile, prebuiltHash, prebuildTool } from "../prebuilt.ts";
import { validateConfigRules } from "./rules.ts";
import { opsConfigSchema, type OpsConfig } from "./schema.ts";

export const CONFIG_FILE = "ops.config.ts";

/**
 * Validates a written config: zod shape first, then cross-field rules.
 * @throws {ConfigError} listing every problem as `path: message`, with `where` = the config file.
 */
export function parseOpsConfig(written: unknown, where = CONFIG_FILE): OpsConfig {
  const parsed = opsConfigSchema.safeParse(written);
  if (!parsed.success) {
    // A bad record key ("Invalid key in record") carries the key schema's own message inside.
    const lines = parsed.error.issues.map((i) => {
      const inner = (i as { issues?: { message: string }[] }).issues?.[0]?.message;
      if (i.code === "invalid_key" && inner) return `${formatPath(i.path)}: ${inner}`;
      // A required key left out: say so, instead of zod's "expected string, received undefined".
      const missing = i.code === "invalid_type" && / received undefined$/.test(i.message);
      if (missing) return `${formatPath(i.path)}: required key "${String(i.path.at(-1))}" is missing (expected ${i.expected})`;
      return `${formatPath(i.path)}: ${i.message}`;
    });
    throw new ConfigError(`${where} is not valid:\n  ${lines.join("\n  ")}`, {
      where,
      fix: `Correct the listed fields in ${where}.`,
    });
  }
  const errors = validateConfigRules(parsed.data);
  if (errors.length > 0) {
    throw new ConfigError(`${where} is not valid:\n  ${errors.join("\n  ")}`, {
      where,
      fix: `Correct the listed fields in ${where}.`,
    });
  }
  return parsed.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || "(root)";
}

/**
 * Loads `ops.config.ts` from the repository root. From the TypeScript sources (vitest, tsx) the
 * file is imported as it is; the prebuilt steps import its compiled form from the build's
 * `config/` folder, compiled now (esbuild, packages/ops/prebuild/config.mjs) when the file changed
 * since the build, so an edit is always seen.
 * @throws {ConfigError} when the file is missing, fails to compile or import, or is not valid.
 */
export async function loadOpsConfig(repoRoot: string): Promise<OpsConfig> {
  const file = join(repoRoot, CONFIG_FILE);
  if (!existsSync(file)) {
    throw new ConfigError(`${CONFIG_FILE} not found in ${repoRoot}`, { fix: "Restore ops.config.ts at the repository root." });
  }
  let mod: { default?: unknown };
  try {
    const compiled = prebuiltHash ? await compiledConfig(file) : file;
    mod = (await import(pathToFileURL(compiled).href)) as { default?: unknown };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const fileSystem = code === "EACCES" || code === "EPERM" || code === "EROFS" || code === "ENOSPC";
    throw new ConfigError(`${CONFIG_FILE} could not be loaded: ${describeLoadError(err)}`, {
      where: file,
      fix: fileSystem
        ? `Make ${(err as NodeJS.ErrnoException).path ?? "the prebuilt steps' folder"} writable (or free space): the compiled config is written there. Then run again.`
        : "Fix the TypeScript error in ops.config.ts.",
    });
  }
  return parseOpsConfig(mod.default, CONFIG_FILE);
}

/** The compiled form of `file` in the running build (compiled on first use). */
async function compiledConfig(file: string): Promise<string> {
  const tool = (await import(pathToFileURL(prebuildTool("config.mjs")).href)) as {
    compileConfig(configFile: string, dir: string): Promise<string>;
  };
  return tool.compileConfig(file, prebuiltFile("config"));
}

/** esbuild reports errors as `{ errors: [{ text, location: { file, line, column } }] }`; anything else by its message. */
function describeLoadError(err: unknown): string {
  const errors = (err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
  if (!errors?.length) return (err as Error).message;
  return errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column + 1}: ${e.text}` : e.text)).join("; ");
}
