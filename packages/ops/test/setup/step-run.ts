/**
 * Runs one step in-process the way the CLI boundary does (run, then `onFailure` on an error), and
 * the check every step test shares: a dry run writes nothing and runs no mutating command, prints
 * one plan, and apply then runs exactly that plan, the same mutating argv in the same order.
 */
import { expect } from "vitest";
import type { OpsCommand } from "../../src/cli/run-ops.ts";
import type { OpsContext } from "../../src/context.ts";
import { OpsError } from "../../src/errors.ts";
import type { OpsEvent } from "../../src/output/events.ts";
import type { ActionDescription } from "../../src/plan/plan.ts";
import type { Cmd } from "../../src/runner/types.ts";
import { databaseSnapshot, folderSnapshot } from "../e2e/snapshot.ts";
import { testContext } from "./context.ts";
import { isFlyRead } from "./scripted-fly.ts";

// biome-ignore lint/suspicious/noExplicitAny: any command, whatever its options
export type AnyCommand = OpsCommand<any>;
export type ContextOptions = Parameters<typeof testContext>[0];

export interface StepRun {
  ctx: OpsContext;
  commands: Cmd[];
  lines: string[];
  events: OpsEvent[];
  /** What the boundary would show (the `onFailure` hook may replace the error); undefined on success. */
  error: (Error & { where?: string; fix?: string }) | undefined;
}

export interface StepArgs {
  positionals?: string[];
  values?: Record<string, unknown>;
}

/** Runs `command` once in a fresh test context; never throws for the step's own error. */
export async function runStep(command: AnyCommand, args: StepArgs, opts: ContextOptions): Promise<StepRun> {
  const t = await testContext(opts);
  let error: StepRun["error"];
  try {
    await command.run(t.ctx, { values: args.values ?? {}, positionals: args.positionals ?? [] });
  } catch (err) {
    error = err as Error;
    if (command.onFailure) {
      const shown = await command.onFailure(t.ctx, err);
      if (shown instanceof OpsError) error = shown;
    }
  }
  return { ...t, events: t.lines.map((l) => JSON.parse(l) as OpsEvent), error };
}

/** Run ids and timestamps in paths differ between two runs of the same plan; nothing else may. */
export const normalize = (v: unknown) =>
  JSON.stringify(v)
    .replace(/\d{8}-\d{6}-[0-9a-f]{4}/g, "<run>")
    .replace(/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z/g, "<time>")
    .replace(/\d{8}T\d{6}Z/g, "<time>");

export const argvOf = (c: Cmd) => [c.file, ...c.args];
export const planEvents = (r: StepRun) => r.events.filter((e): e is Extract<OpsEvent, { kind: "plan" }> => e.kind === "plan");
export const appliedActions = (r: StepRun) =>
  r.events.filter((e): e is Extract<OpsEvent, { kind: "action" }> => e.kind === "action").map((e) => e.action);

/** What a step leaves behind: every file under the state folder and, when given, the database's schemas, tables and rows. */
export async function snapshot(stateDir: string, dbUrl?: string) {
  return { files: folderSnapshot(stateDir), db: dbUrl ? await databaseSnapshot(dbUrl) : {} };
}

export interface DryThenApply {
  dry: StepRun;
  live: StepRun;
  printed: ActionDescription[];
}

/**
 * The dry run, then apply, of the same step with the same inputs (`context()` gives each its own
 * fresh context options, e.g. a new scripted runner on the same starting world). Asserts: the dry
 * run succeeded, left the state folder and database as they were, ran no mutating command, and
 * printed exactly one plan; apply succeeded, announced exactly the printed actions, and the
 * mutating commands it ran are the printed ones, in order (reads may come before and between).
 */
export async function dryThenApply(
  command: () => AnyCommand,
  args: StepArgs,
  context: () => ContextOptions,
  seen: { stateDir: string; dbUrl?: string },
): Promise<DryThenApply> {
  const before = await snapshot(seen.stateDir, seen.dbUrl);
  const dryOpts = context();
  // As the CLI sets it for `OPS_DRY_RUN=1 pnpm turbo run production-deploy`: the flag and the variable.
  const dry = await runStep(command(), args, {
    ...dryOpts,
    env: { ...dryOpts.env, OPS_DRY_RUN: "1" },
    flags: { ...dryOpts.flags, dryRun: true },
  });
  expect(dry.error).toBeUndefined();
  expect(await snapshot(seen.stateDir, seen.dbUrl)).toEqual(before);
  expect(dry.commands.filter((c) => !isFlyRead(argvOf(c))).map(argvOf)).toEqual([]);
  const plans = planEvents(dry);
  expect(plans).toHaveLength(1);
  const printed = plans[0]!.actions ?? [];

  const live = await runStep(command(), args, context());
  expect(live.error).toBeUndefined();
  expect(appliedActions(live).map(normalize)).toEqual(printed.map(normalize));
  const printedArgv = printed.filter((a) => a.argv && (a.kind === "cmd" || a.kind === "check")).map((a) => normalize(a.argv));
  const ranArgv = live.commands.map((c) => normalize(argvOf(c)));
  expect(live.commands.filter((c) => !isFlyRead(argvOf(c))).map((c) => normalize(argvOf(c)))).toEqual(
    printed.filter((a) => a.kind === "cmd" && a.argv && !isFlyRead(a.argv)).map((a) => normalize(a.argv)),
  );
  // Every printed command (the checks' reads too) ran, in the printed order.
  let at = 0;
  for (const argv of printedArgv) {
    at = ranArgv.indexOf(argv, at) + 1;
    expect(at, `printed ${argv} did not run (in order)`).toBeGreaterThan(0);
  }
  return { dry, live, printed };
}
