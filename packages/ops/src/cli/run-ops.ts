import { parseArgs, type ParseArgsConfig } from "node:util";
import { appsOfEnvironment } from "../config/apps-of-environment.ts";
import { loadOpsConfig } from "../config/load.ts";
import type { CommonFlags, OpsContext } from "../context.ts";
import { interruptFile, readOpsEnv } from "../env.ts";
import { isOwnerAlive, runOwner } from "../pipeline/owner.ts";
import { InterruptedError, OpsError, UsageError } from "../errors.ts";
import { createReporter } from "../output/reporter.ts";
import { createZxRunner } from "../runner/zx.ts";
import { withCommandEvents } from "../runner/with-events.ts";
import { createTarget } from "../target/factory.ts";
import { knownSecretValues } from "../secrets/local-source.ts";
import { createRedactor } from "../secrets/redactor.ts";
import { RunStore } from "../state/run-state.ts";
import { checkPositionals } from "./arguments.ts";
import { didYouMean } from "../text/did-you-mean.ts";
import { parseDurationMs } from "./duration.ts";
import { environmentFsError } from "../state/fs-errors.ts";
import { interruptingSignal, REPEAT_WINDOW_MS, signalExitCode } from "./interrupt.ts";
import { continueWhenOutputCloses } from "./closed-output.ts";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** A command of the ops CLI: its own options, and what it does with a context. */
export interface OpsCommand<O extends Options> {
  /** Step name printed first (`preflight`, `migrate`, `deploy backend`). */
  name: string | ((positionals: string[]) => string);
  description: string;
  /** Extra help lines: sub-commands, positional arguments, the command's own options. */
  usage?: string[];
  options?: O;
  /**
   * The sub-commands the first argument may name, each with the names of the arguments that follow
   * it (`{ list: [], sync: [], rotate: ["KEY"] }`); the first is the default. Any other sub-command
   * or an extra argument is refused before anything runs, also under --help.
   */
  subcommands?: Readonly<Record<string, readonly string[]>>;
  /** The arguments of a command without sub-commands, by name (`["app"]`); none when absent. */
  arguments?: readonly string[];
  /** Runs the step. Return an exit code, or nothing for 0. Throw `OpsError` for user-caused failures. */
  run(ctx: OpsContext, args: { values: Record<string, unknown>; positionals: string[] }): Promise<number | void>;
  /**
   * An interrupt is how this command normally ends (`ops:logs --follow`): SIGINT/SIGTERM run the
   * cleanups it registered with `ctx.onInterrupt` (which make `run` return) and it exits as usual,
   * without the "interrupted" error. A second signal still exits at once.
   */
  endsOnInterrupt?: boolean;
  /**
   * Called with the error when `run` throws, before it is printed (pipeline steps mark the run
   * failed here). May return the error to print instead.
   */
  onFailure?(ctx: OpsContext, error: unknown): Promise<void | OpsError>;
  /**
   * The one line to print instead of running, when the command is about an app that is off in this
   * environment (`deploy authentik` where authentik is optional and not turned on): it prints that
   * line alone and exits 0, so an app that is off shows up once in a pipeline's output.
   */
  skipWhen?(args: { positionals: string[]; values: Record<string, unknown>; appsOff: ReadonlyMap<string, string> }): string | undefined;
}

const common = {
  "dry-run": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  pipeline: { type: "boolean", default: false },
  target: { type: "string" },
  env: { type: "string" },
  "lock-wait": { type: "string" },
  yes: { type: "boolean", short: "y", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies Options;

function helpText(name: string, command: OpsCommand<Options>): string {
  return [
    `${name}: ${command.description}`,
    ...(command.usage?.length ? ["", ...command.usage.map((l) => `  ${l}`)] : []),
    "",
    "Options every command takes:",
    "  --dry-run          print the plan, change nothing (whole pipeline: OPS_DRY_RUN=1)",
    "  --json             one JSON event per line",
    "  --target <t>       local | fly (or OPS_TARGET)",
    "  --env <name>       environment, e.g. staging (or OPS_ENV)",
    "  --lock-wait <d>    wait this long for a busy deploy lock, e.g. 10m (or OPS_LOCK_WAIT)",
    "  --yes, -y          confirm destructive actions (needed without a terminal)",
    "  --pipeline         (turbo tasks) join the run preflight opened",
  ].join("\n");
}

/** Identity helper for typing commands. */
export function defineOps<O extends Options>(command: OpsCommand<O>): OpsCommand<O> {
  return command;
}

/** How often a pipeline task checks that the turbo running it is still there, in milliseconds. */
const OWNER_CHECK_MS = 500;

/**
 * Calls `gone` once when the turbo process running this task (the run's owner, pipeline/owner.ts)
 * is gone. The timer never keeps the process alive.
 */
function watchPipelineOwner(gone: (pid: number) => void): void {
  const owner = runOwner(true);
  if (!owner) return;
  const timer = setInterval(() => {
    if (isOwnerAlive(owner)) return;
    clearInterval(timer);
    gone(owner.pid);
  }, OWNER_CHECK_MS);
  timer.unref();
}

/**
 * An option that takes one value given twice with different values (`--app client --app backend`):
 * parseArgs keeps the last one silently, so a rollback of two apps would roll back one.
 * @throws {UsageError} naming the option and both values.
 */
function refuseRepeatedValues(tokens: readonly { kind: string; name?: string; value?: string | undefined }[]): void {
  const given = new Map<string, string[]>();
  for (const t of tokens) {
    if (t.kind !== "option" || t.name === undefined || t.value === undefined) continue;
    given.set(t.name, [...(given.get(t.name) ?? []), t.value]);
  }
  for (const [name, list] of given) {
    if (new Set(list).size > 1) {
      throw new UsageError(`--${name} was given ${list.length} times (${list.join(", ")}); it takes one value`, {
        fix: `Give --${name} once; to act on several, run the command once for each.`,
      });
    }
  }
}

/**
 * The single error boundary of every entry script: parses flags, reads env and config once,
 * builds the reporter (every line redacted), runs the command, and maps errors to one clear
 * message and an exit code. `OpsError`s print without a stack; anything else is a bug and prints
 * its stack. Never returns: it exits the process.
 */
export async function runOps<O extends Options>(command: OpsCommand<O>, argv: string[] = process.argv.slice(2)): Promise<never> {
  const redactor = createRedactor([]);
  let json = argv.includes("--json");
  let reporter = createReporter({ json, redactor });
  let ctx: OpsContext | undefined;
  const started = performance.now();
  // The command as typed after `ops:` (`secrets`), until its arguments name the step (`secrets sync`).
  const commandName = typeof command.name === "string" ? command.name : command.name([]).split(" ")[0]!;
  let stepName = commandName;
  let interrupted: { at: number; signal: NodeJS.Signals; handled?: Promise<never> } | undefined;
  // Work registered through ctx.onInterrupt: what a step holds that an interrupt must undo.
  const cleanups = new Set<() => Promise<unknown>>();
  // Work under way that an interrupt must let finish first (ctx.critical).
  const criticals = new Set<Promise<unknown>>();
  const interrupt = (received: NodeJS.Signals) => {
    if (interrupted) {
      // One Ctrl-C reaches this process several times (its process group, then pnpm's and tsx's
      // relays); only a signal after that is a second request, which exits at once.
      if (Date.now() - interrupted.at < REPEAT_WINDOW_MS) return;
      process.exit(signalExitCode(interrupted.signal));
    }
    interrupted = { at: Date.now(), signal: received };
    if (command.endsOnInterrupt) {
      void (async () => {
        for (const fn of cleanups) await fn().catch(() => undefined);
      })();
      return;
    }
    interrupted.handled = (async (): Promise<never> => {
      // In a turbo run the signal the run got (turbo stops tasks with SIGINT even on SIGTERM).
      const signal = await interruptingSignal(received, interruptFile());
      interrupted!.signal = signal;
      // A traffic switch under way ends first, so what serves is one release, recorded, not a half switch.
      await Promise.allSettled([...criticals]);
      const err = new InterruptedError(signal);
      if (ctx && command.onFailure) await command.onFailure(ctx, err).catch(() => undefined);
      for (const fn of cleanups) await fn().catch(() => undefined);
      reporter.emit({
        kind: "error",
        message: `${stepName}: interrupted by ${signal}; the run was marked failed and its lock released`,
        fix: err.fix,
      });
      return process.exit(signalExitCode(signal));
    })();
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);
  process.on("SIGHUP", interrupt);
  // A reader that went away (`| head`) ends only what streams; a step still finishes what it started.
  continueWhenOutputCloses(process.stdout, () => {
    if (command.endsOnInterrupt) for (const fn of cleanups) void fn().catch(() => undefined);
  });
  try {
    // `--pipeline` is how turbo tasks call a step; a user never types it, so it is not offered.
    const optionNames = Object.keys({ ...common, ...(command.options ?? {}) })
      .filter((o) => o !== "pipeline")
      .map((o) => `--${o}`);
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        options: { ...common, ...(command.options ?? {}) },
        allowPositionals: true,
        strict: true,
        tokens: true,
      });
    } catch (err) {
      const e = err as Error & { code?: string };
      const unknown = e.message.match(/Unknown option '([^']+)'/)?.[1];
      throw new UsageError(unknown ? `unknown option ${unknown}${didYouMean(unknown, optionNames)}` : e.message.split(". ")[0]!, {
        fix: `Options: ${optionNames.join(", ")}. See --help.`,
      });
    }
    const values = parsed.values as Record<string, unknown>;
    refuseRepeatedValues(parsed.tokens ?? []);
    checkPositionals(commandName, command, parsed.positionals);
    if (typeof command.name === "function") stepName = command.name(parsed.positionals);
    if (values.help) {
      // `ops:local --help` is about the command, not its default sub-command.
      const helpName = parsed.positionals.length === 0 ? commandName : stepName;
      process.stdout.write(`${helpText(helpName, command)}\n`);
      process.exit(0);
    }
    json = Boolean(values.json);
    const env = readOpsEnv(process.env, {
      ...(typeof values.target === "string" ? { target: values.target } : {}),
      ...(typeof values.env === "string" ? { environment: values.env } : {}),
    });
    // On a terminal (not CI, not --json) long waits show one updating progress line.
    reporter = createReporter({ json, redactor, verbose: env.verbose, live: process.stdout, ci: env.ci });
    const lockWait = typeof values["lock-wait"] === "string" ? values["lock-wait"] : env.lockWait;
    const flags: CommonFlags = {
      dryRun: Boolean(values["dry-run"]) || env.dryRun,
      json,
      pipeline: Boolean(values.pipeline),
      lockWaitMs:
        lockWait !== undefined ? parseDurationMs(lockWait, typeof values["lock-wait"] === "string" ? "--lock-wait" : "OPS_LOCK_WAIT") : 0,
      yes: Boolean(values.yes),
    };
    // A task whose turbo was killed (kill -9 of pnpm and turbo: turbo runs each task in a group of
    // its own, so the task survives) stops as on a hang-up, before the next run takes the lock over.
    if (flags.pipeline && !flags.dryRun)
      watchPipelineOwner((pid) => {
        reporter.emit({ kind: "warn", message: `turbo (pid ${pid}), which runs this task, is gone: ${stepName} stops here` });
        interrupt("SIGHUP");
      });
    const stepStart = () =>
      reporter.emit({ kind: "step:start", step: stepName, target: env.target, environment: env.environment, dryRun: flags.dryRun });
    // The config is read before the step's first line so a command about an app that is off can print just one line.
    const loaded = await loadOpsConfig(env.repoRoot)
      .then((c) => appsOfEnvironment(c, env.repoRoot, env.environment))
      .catch((err: unknown) => {
        stepStart();
        throw err;
      });
    // Before anything that could print one: every known secret value, but the keys the config calls plain.
    for (const s of knownSecretValues(env, loaded.config.secrets.plain)) redactor.add(s);
    const skipped = command.skipWhen?.({ positionals: parsed.positionals, values, appsOff: loaded.off });
    if (skipped !== undefined) {
      reporter.emit({ kind: "info", message: skipped });
      process.exit(0);
    }
    stepStart();
    const { config } = loaded;
    const full: Omit<OpsContext, "target"> & { target?: OpsContext["target"] } = {
      env,
      config,
      flags,
      reporter,
      addSecret: (s) => redactor.add(s),
      redact: (t) => redactor.redact(t),
      runner: withCommandEvents(createZxRunner(env.processEnv), reporter),
      runs: new RunStore(env.stateDir, env.environment),
      onInterrupt: (fn) => {
        cleanups.add(fn);
        return () => cleanups.delete(fn);
      },
      interruptedBy: () => interrupted?.signal,
      critical: async (fn) => {
        const work = fn();
        criticals.add(work);
        try {
          return await work;
        } finally {
          criticals.delete(work);
        }
      },
    };
    full.target = await createTarget(full);
    ctx = full as OpsContext;
    const code = (await command.run(ctx, { values, positionals: parsed.positionals })) ?? 0;
    // An interrupt under way decides how this ends (its cleanup, message and exit code).
    if (interrupted?.handled) await interrupted.handled;
    reporter.emit({ kind: "step:end", step: stepName, ok: code === 0, durationMs: Math.round(performance.now() - started) });
    process.exit(code);
  } catch (caught) {
    // What the interrupt's cleanup made fail (a lock it released) is not the error to report.
    if (interrupted?.handled) await interrupted.handled;
    // A refused write anywhere (EROFS, EACCES, ENOSPC) is the machine, not a bug: an OpsError naming the path.
    let err = environmentFsError(caught);
    if (ctx && command.onFailure) {
      // The hook may hand back the error to show instead (e.g. one whose fix says what serves after a rollback).
      const shown = await command.onFailure(ctx, err).catch((hookErr: unknown) => {
        reporter.emit({ kind: "warn", message: `could not record the failure: ${(hookErr as Error).message}` });
      });
      if (shown instanceof OpsError) err = shown;
    }
    if (err instanceof OpsError) {
      reporter.emit({
        kind: "error",
        message: `${stepName}: ${err.message}`,
        ...(err.where ? { where: err.where } : {}),
        ...(err.fix ? { fix: err.fix } : {}),
      });
      reporter.emit({ kind: "step:end", step: stepName, ok: false, durationMs: Math.round(performance.now() - started) });
      process.exit(err.exitCode);
    }
    const e = err as Error;
    reporter.emit({
      kind: "error",
      message: `${stepName}: unexpected error: ${e?.message ?? String(err)}`,
      bug: `This is a bug in @repo/ops; please report it with this trace:\n${e?.stack ?? ""}`,
    });
    process.exit(70);
  }
}
