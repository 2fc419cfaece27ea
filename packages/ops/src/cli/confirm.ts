import { createInterface } from "node:readline/promises";
import type { OpsContext } from "../context.ts";

/**
 * Asks before a destructive action: true with `--yes`; on a terminal (not CI), when the user types
 * `expected`; false otherwise (no terminal, CI, another answer), so the caller refuses with the fix.
 */
export async function confirm(ctx: OpsContext, question: string, expected: string): Promise<boolean> {
  if (ctx.flags.yes) return true;
  if (!process.stdin.isTTY || ctx.env.ci) return false;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(`${question} Type "${expected}" to go on: `)).trim() === expected;
  } finally {
    rl.close();
  }
}
