import { createRequire } from "node:module";
import type { Cmd } from "../runner/types.ts";

/** The buf binary shipped by the `@bufbuild/buf` npm package. */
export function bufBinary(): string {
  return createRequire(import.meta.url).resolve("@bufbuild/buf/bin/buf");
}

/**
 * `buf breaking <dir> --against <repo>/.git#ref=<sha>,subdir=<dir>`: are the protos in `dir`
 * wire-compatible with those at `sha` (the release deployed now)?
 */
export const bufBreaking = (repoRoot: string, dir: string, againstSha: string): Cmd => ({
  file: bufBinary(),
  args: ["breaking", dir, "--against", `.git#ref=${againstSha},subdir=${dir}`, "--error-format", "text"],
  cwd: repoRoot,
});
