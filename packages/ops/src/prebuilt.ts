import { fileURLToPath } from "node:url";

// Replaced by the prebuild (packages/ops/prebuild/build.mjs, esbuild `define`) with the source
// hash of the build; absent when this code runs from its TypeScript sources (vitest, tsx).
declare const __OPS_PREBUILT__: string | undefined;

/** The source hash of the prebuilt steps this code runs from, or undefined when it runs from TypeScript sources. */
export const prebuiltHash: string | undefined = typeof __OPS_PREBUILT__ === "string" ? __OPS_PREBUILT__ : undefined;

/**
 * Absolute path of a file of the running build, given relative to its folder
 * (`packages/ops/dist/<hash>/`): every output of a build sits one folder below it
 * (`status/chunk-….mjs`, `helpers/router-main.mjs`), so `../` from this module is the build.
 */
export function prebuiltFile(relativePath: string): string {
  return fileURLToPath(new URL(`../${relativePath}`, import.meta.url));
}

/**
 * The build tools' folder (`packages/ops/prebuild/`): plain JavaScript modules the prebuilt code
 * imports at run time (compiling `ops.config.ts`), two levels above the build.
 */
export function prebuildTool(name: string): string {
  return fileURLToPath(new URL(`../../../prebuild/${name}`, import.meta.url));
}
