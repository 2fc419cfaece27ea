import { createRequire } from "node:module";
import type { Cmd } from "../runner/types.ts";

/** Rules the migrate step satisfies itself: it sets lock_timeout and statement_timeout on its session. */
export const RULES_SET_BY_RUNNER = ["require-lock-timeout", "require-statement-timeout"];

/**
 * `squawk --reporter json --assume-in-transaction --pg-version <v> --exclude <rules> <files…>`
 * (squawk-cli from npm, run with this Node). postgres-migrations runs each file in a
 * transaction, hence `--assume-in-transaction`.
 */
export function squawkLint(files: string[], opts: { pgVersion: string; exclude: string[] }): Cmd {
  const script = createRequire(import.meta.url).resolve("squawk-cli/js/bin/squawk");
  return {
    file: process.execPath,
    args: [
      script,
      "--reporter",
      "json",
      "--assume-in-transaction",
      "--pg-version",
      opts.pgVersion,
      ...(opts.exclude.length ? ["--exclude", opts.exclude.join(",")] : []),
      ...files,
    ],
  };
}
