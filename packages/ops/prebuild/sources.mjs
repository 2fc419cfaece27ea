// What the prebuilt steps are built from, and the hash that names a build. Plain JavaScript: the
// entry (run.mjs) imports this before any build exists, so it must run on node as it is.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** `packages/ops`, found from this file. */
export const opsDir = fileURLToPath(new URL("..", import.meta.url));
/** The monorepo root (two levels above `packages/ops`). */
export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));
/** Where builds live: one folder per source hash (`dist/<hash>/`), so a build is never changed in place. */
export const distRoot = join(opsDir, "dist");
/** The entry scripts people edit (`scripts/*.ts`); each becomes `dist/<hash>/<name>/<name>.mjs`. */
export const scriptsDir = join(repoRoot, "scripts");
/** Long-running helpers started detached by the local target; each is built as one self-contained file. */
export const helperNames = ["router-main", "supervisor-main", "postgres-main"];
/** Folder of a build holding the helpers (`helpers/<name>.mjs`). */
export const HELPERS = "helpers";
/** Folder of a build holding compiled configs (`config/config-<content hash>.mjs`). */
export const CONFIGS = "config";
/** The file in a build folder written last: its presence means the build is complete. */
export const BUILD_RECORD = "build.json";

/**
 * Every file a build is made from, as paths relative to the monorepo root, sorted: the library's
 * TypeScript (`packages/ops/src/**`), its package.json, the build tools in this folder,
 * `scripts/*.ts`, and the lockfile, which pins the one third-party package bundled (zod; the others
 * stay imports, see esbuild-options.mjs).
 */
export function sourceFiles() {
  const src = readdirSync(join(opsDir, "src"), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `packages/ops/src/${f.split("\\").join("/")}`);
  const tools = readdirSync(join(opsDir, "prebuild"))
    .filter((f) => f.endsWith(".mjs"))
    .map((f) => `packages/ops/prebuild/${f}`);
  const scripts = existsSync(scriptsDir)
    ? readdirSync(scriptsDir)
        .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
        .map((f) => `scripts/${f}`)
    : [];
  return [...src, ...tools, "packages/ops/package.json", "pnpm-lock.yaml", ...scripts].sort();
}

/**
 * sha256 over each source file's path and content (16 hex digits), the name of the build made
 * from them. Reading the ~130 files takes a few milliseconds, so every start can afford it.
 * @returns `{ hash, files }`, `files` as from {@link sourceFiles}.
 */
export function sourceHash() {
  const files = sourceFiles();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(file);
    hash.update("\0");
    hash.update(readFileSync(join(repoRoot, file)));
    hash.update("\0");
  }
  return { hash: hash.digest("hex").slice(0, 16), files };
}

/** The folder of the build made from sources with this hash. */
export function buildDir(hash) {
  return join(distRoot, hash);
}

/** Whether the build for `hash` is complete (its record is written last). */
export function isBuilt(hash) {
  return existsSync(join(buildDir(hash), BUILD_RECORD));
}

/** The names of the entry scripts (`scripts/<name>.ts`), sorted. */
export function scriptNames(files = sourceFiles()) {
  return files.filter((f) => f.startsWith("scripts/")).map((f) => f.slice("scripts/".length, -".ts".length));
}
