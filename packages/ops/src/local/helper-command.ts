import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { prebuiltFile, prebuiltHash } from "../prebuilt.ts";

/** The long-running helpers the local target starts detached (`src/local/<name>.ts`). */
export type HelperName = "router-main" | "supervisor-main" | "postgres-main";

/**
 * The node arguments that start a helper, decided in this one place. The prebuilt steps start the
 * helper's self-contained JavaScript from the same build (`dist/<hash>/helpers/<name>.mjs`, plain
 * `node`, no loader: tens of MB less per process). Code running from its TypeScript sources (the
 * unit tests) starts the TypeScript file under tsx's loader.
 */
export function helperNodeArgs(name: HelperName): string[] {
  if (prebuiltHash) return [prebuiltFile(`helpers/${name}.mjs`)];
  return ["--import", tsxLoader(), fileURLToPath(new URL(`./${name}.ts`, import.meta.url))];
}

/** tsx's ESM loader (`exports["."]` of tsx), as a file URL for `node --import`. */
function tsxLoader(): string {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports: { ".": string } };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports["."])).href;
}
