import type { Cmd } from "../runner/types.ts";

/** `git rev-parse HEAD` in `cwd`. */
export const gitHeadSha = (cwd: string): Cmd => ({ file: "git", args: ["rev-parse", "HEAD"], cwd });

/** `git status --porcelain`: empty output means a clean tree. */
export const gitStatusPorcelain = (cwd: string): Cmd => ({ file: "git", args: ["status", "--porcelain"], cwd });

/** `git ls-files --error-unmatch <path>`: exit 0 when git tracks the file. */
export const gitIsTracked = (cwd: string, path: string): Cmd => ({ file: "git", args: ["ls-files", "--error-unmatch", "--", path], cwd });
