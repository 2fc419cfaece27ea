import { gitHeadSha } from "./commands/git.ts";
import type { Runner } from "./runner/types.ts";

/** The checked-out commit, or `"unknown"` outside a git checkout (never fails a step by itself). */
export async function currentGitSha(runner: Runner, repoRoot: string): Promise<string> {
  const res = await runner(gitHeadSha(repoRoot));
  return res.ok ? res.stdout.trim() : "unknown";
}
