/**
 * A real OpsContext for step tests, without the CLI boundary: env from the given variables,
 * config from the repository's ops.config.ts (or an override), the target the factory picks, a
 * reporter that keeps every event, and a recording runner around the given one, wrapped like the
 * CLI's so every command shows as `cmd`/`cmd:end` events.
 */
import { resolve } from "node:path";
import { appsOfEnvironment } from "../../src/config/apps-of-environment.ts";
import { parseOpsConfig } from "../../src/config/load.ts";
import type { CommonFlags, OpsContext } from "../../src/context.ts";
import { readOpsEnv } from "../../src/env.ts";
import { createReporter } from "../../src/output/reporter.ts";
import type { Cmd, Runner } from "../../src/runner/types.ts";
import { withCommandEvents } from "../../src/runner/with-events.ts";
import { knownSecretValues } from "../../src/secrets/local-source.ts";
import { createRedactor } from "../../src/secrets/redactor.ts";
import { RunStore } from "../../src/state/run-state.ts";
import { createTarget } from "../../src/target/factory.ts";

export const repoRoot = resolve(import.meta.dirname, "../../../..");

export interface TestContext {
  ctx: OpsContext;
  /** Every command the runner got, in order. */
  commands: Cmd[];
  /** Runs what the step registered with `ctx.onInterrupt`, as the CLI boundary does on SIGINT. */
  interrupt(): Promise<void>;
  lines: string[];
}

/** A runner that answers every command with exit 0 and empty output. */
export const okRunner: Runner = async (cmd) => ({
  ok: true,
  exitCode: 0,
  signal: null,
  stdout: "",
  stderr: "",
  durationMs: 0,
  command: [cmd.file, ...cmd.args].join(" "),
});

export async function testContext(opts: {
  env: Record<string, string | undefined>;
  flags?: Partial<CommonFlags>;
  runner?: Runner;
  config?: (written: Record<string, unknown>) => Record<string, unknown>;
}): Promise<TestContext> {
  const env = readOpsEnv({ OPS_REPO_ROOT: repoRoot, ...opts.env });
  const written = (await import(resolve(env.repoRoot, "ops.config.ts"))).default as Record<string, unknown>;
  // As the CLI boundary: every secret value the environment and the secrets files hold is redacted from the start.
  const redactor = createRedactor(knownSecretValues(env));
  const lines: string[] = [];
  const commands: Cmd[] = [];
  const inner = opts.runner ?? okRunner;
  const cleanups = new Set<() => Promise<unknown>>();
  const reporter = createReporter({ json: true, redactor, write: (l) => lines.push(l) });
  const recording: Runner = async (cmd, o) => {
    commands.push(cmd);
    return inner(cmd, o);
  };
  const base = {
    env,
    // As the CLI boundary does: the apps of this environment only (optional apps it leaves off are dropped).
    config: (await appsOfEnvironment(parseOpsConfig(opts.config ? opts.config(written) : written), env.repoRoot, env.environment)).config,
    flags: { dryRun: false, json: false, pipeline: false, lockWaitMs: 0, yes: false, ...opts.flags },
    reporter,
    addSecret: (s: Parameters<OpsContext["addSecret"]>[0]) => redactor.add(s),
    redact: (t: string) => redactor.redact(t),
    runner: withCommandEvents(recording, reporter),
    runs: new RunStore(env.stateDir, env.environment),
    onInterrupt: (fn: () => Promise<unknown>) => {
      cleanups.add(fn);
      return () => cleanups.delete(fn);
    },
    interruptedBy: () => undefined,
    critical: <T>(fn: () => Promise<T>) => fn(),
  };
  const ctx = { ...base, target: undefined } as unknown as OpsContext;
  (ctx as { target: OpsContext["target"] }).target = await createTarget(ctx);
  const interrupt = async () => {
    for (const fn of cleanups) await fn();
  };
  return { ctx, commands, lines, interrupt };
}
