import { gitHeadSha, gitStatusPorcelain } from "./commands/git.ts";
import type { Runner } from "./runner/types.ts";

/** Suffix of a recorded git sha whose tree had uncommitted changes (as `git describe --dirty` writes it). */
export const DIRTY_SUFFIX = "-dirty";

/**
 * What a run records as its tree: the checked-out commit, `<sha>-dirty` when `git status
 * --porcelain` lists anything (modified, staged or untracked, not ignored: what a build could pick
 * up), or `"unknown"` outside a git checkout. Never fails a step by itself.
 */
export async function currentGitSha(runner: Runner, repoRoot: string): Promise<string> {
  const head = await runner(gitHeadSha(repoRoot));
  if (!head.ok) return "unknown";
  const sha = head.stdout.trim();
  const status = await runner(gitStatusPorcelain(repoRoot));
  return status.ok && status.stdout.trim() !== "" ? `${sha}${DIRTY_SUFFIX}` : sha;
}

/** True when a recorded sha says the tree had uncommitted changes. */
export const isDirtySha = (recorded: string): boolean => recorded.endsWith(DIRTY_SUFFIX);

/** The commit a recorded sha was taken from (`abc…-dirty` → `abc…`), for git commands. */
export const commitOfSha = (recorded: string): string => (isDirtySha(recorded) ? recorded.slice(0, -DIRTY_SUFFIX.length) : recorded);

/** A short form that keeps the dirty mark: `abc1234`, `abc1234-dirty`, `unknown`. `length` counts hex digits. */
export function shortSha(recorded: string, length = 7): string {
  if (recorded === "unknown") return recorded;
  return commitOfSha(recorded).slice(0, length) + (isDirtySha(recorded) ? DIRTY_SUFFIX : "");
}
