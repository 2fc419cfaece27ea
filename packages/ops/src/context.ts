import type { OpsConfig } from "./config/schema.ts";
import type { OpsEnv } from "./env.ts";
import type { Reporter } from "./output/reporter.ts";
import type { Runner } from "./runner/types.ts";
import type { Secret } from "./secrets/secret.ts";
import type { RunStore } from "./state/run-state.ts";
import type { Target } from "./target/target.ts";

/** Flags every command understands. */
export interface CommonFlags {
  /** `--dry-run`: print the plan, change nothing. */
  dryRun: boolean;
  /** `--json`: one JSON event per line. */
  json: boolean;
  /** `--pipeline`: this is a task of `turbo run production-deploy` and joins its current run. */
  pipeline: boolean;
  /** `--lock-wait`: how long to wait for a busy deploy lock, in milliseconds. @default 0 */
  lockWaitMs: number;
  /** `--yes`: confirm destructive actions without a prompt (required when not on a TTY). */
  yes: boolean;
}

/** What every step receives: validated env and config, the one reporter, the one process runner. */
export interface OpsContext {
  env: OpsEnv;
  config: OpsConfig;
  flags: CommonFlags;
  reporter: Reporter;
  /** Adds a value the output must never show (the reporter redacts every line with it). */
  addSecret(value: Secret): void;
  /** Replaces every known secret value in `text` (for anything stored: history, reports). */
  redact(text: string): string;
  runner: Runner;
  runs: RunStore;
  /** Where this command deploys: chosen once from OPS_TARGET / --target (target/factory.ts). */
  target: Target;
  /**
   * Registers work that must run if the process is interrupted (SIGINT/SIGTERM) while a step
   * holds something (a deploy lock, a release started but not yet routed). Returns the unregister function.
   */
  onInterrupt(fn: () => Promise<unknown>): () => void;
  /** The signal that interrupted this process, once one did: applying a plan starts no action after it. */
  interruptedBy(): NodeJS.Signals | undefined;
  /**
   * Runs `fn` as one piece an interrupt does not cut in two (a traffic switch: route, stop the
   * old release, record): an interrupt waits for it to end before its failure handling and cleanups.
   */
  critical<T>(fn: () => Promise<T>): Promise<T>;
}
