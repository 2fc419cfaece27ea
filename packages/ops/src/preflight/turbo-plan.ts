/**
 * turbo's own plan of a run: `turbo run <task> --dry=json` (turbo 2's run summary, `"version": "1"`)
 * lists every task the run would execute with its package, folder, command (`<NONEXISTENT>` when
 * the package has no such script, so turbo runs nothing for it), dependencies, env mode, resolved
 * definition and the variables it would get. Asking it changes nothing.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { Runner } from "../runner/types.ts";

const names = z.array(z.string()).nullish();

/** The `environmentVariables` block of a task, or of `globalCacheInputs`. */
const planEnvSchema = z
  .object({
    specified: z.object({ env: names, passThroughEnv: names }).partial().nullish(),
    configured: names,
    inferred: names,
    passthrough: names,
  })
  .partial();

const planTaskSchema = z.looseObject({
  taskId: z.string(),
  task: z.string(),
  package: z.string(),
  directory: z.string().optional(),
  command: z.string(),
  dependencies: z.array(z.string()),
  envMode: z.string().optional(),
  resolvedTaskDefinition: z.looseObject({ cache: z.boolean().optional(), outputs: names, env: names, passThroughEnv: names }).optional(),
  environmentVariables: planEnvSchema.optional(),
});

const planSchema = z.looseObject({
  envMode: z.string().optional(),
  packages: z.array(z.string()).optional(),
  globalCacheInputs: z.looseObject({ environmentVariables: planEnvSchema.optional() }).optional(),
  tasks: z.array(planTaskSchema),
});

export type TurboPlan = z.infer<typeof planSchema>;
export type TurboPlanTask = z.infer<typeof planTaskSchema>;

/** What turbo prints for a task whose package has no script of that name. */
export const NO_COMMAND = "<NONEXISTENT>";

/** Flags whose output replaces the plan's, and their optional value. */
const OUTPUT_FLAGS = new Set(["--dry", "--dry-run", "--graph", "--summarize"]);
const OUTPUT_VALUE = /^(json|text|true|false|.+\.(svg|png|jpe?g|pdf|json|mermaid|html|dot))$/;
/** Remote cache credentials (and their value): a dry run needs none, and a token must not reach argv shown in logs. */
const CREDENTIAL_FLAGS = new Set(["--token", "--team", "--api", "--login"]);

/**
 * The arguments of `turbo … --dry=json` that plan the same run as `runArgs` (the arguments of the
 * `turbo` command being run, handed over by `scripts/turbo.mjs`): the same global flags, tasks,
 * filters, env mode and root turbo.json, without output flags (`--dry`, `--graph`, `--summarize`),
 * remote cache credentials, or what follows `--` (arguments for the tasks). Without `runArgs`, or
 * when they are not a `turbo run`, `run <task> --dry=json`.
 */
export function planArgs(task: string, runArgs?: readonly string[]): string[] {
  if (!runArgs?.includes("run")) return ["run", task, "--dry=json"];
  const out: string[] = [];
  for (let i = 0; i < runArgs.length; i++) {
    const a = runArgs[i]!;
    if (a === "--") break;
    const flag = a.split("=")[0]!;
    if (OUTPUT_FLAGS.has(flag)) {
      if (!a.includes("=") && OUTPUT_VALUE.test(runArgs[i + 1] ?? "")) i++;
      continue;
    }
    if (CREDENTIAL_FLAGS.has(flag)) {
      if (!a.includes("=")) i++;
      continue;
    }
    out.push(a);
  }
  return [...out, "--dry=json"];
}

export type PlanAnswer =
  | { ok: true; plan: TurboPlan; shown: string }
  /** `refused`: turbo exited ≠ 0 (the run itself would fail the same way); else it printed no plan this module can read. */
  | { ok: false; refused: boolean; shown: string; exitCode: number | null; stderr: string };

/**
 * Runs the installed turbo (`node_modules/.bin/turbo`, else `turbo` on PATH) with `args` in
 * `repoRoot` and parses its plan. `env` is added to the child's environment (placeholders for the
 * variables whose pass-through is checked: turbo lists only variables that are set).
 * Never throws: a turbo that fails (`refused`) or prints no plan it can read is `ok: false` with
 * its exit code and stderr.
 */
export async function askTurboPlan(
  runner: Runner,
  opts: { repoRoot: string; args: string[]; env?: Record<string, string> },
): Promise<PlanAnswer> {
  const local = join(opts.repoRoot, "node_modules", ".bin", "turbo");
  const cmd = { file: existsSync(local) ? local : "turbo", args: opts.args, cwd: opts.repoRoot, ...(opts.env ? { env: opts.env } : {}) };
  const shown = `turbo ${opts.args.join(" ")}`;
  const res = await runner(cmd, { timeoutMs: 60_000 });
  if (res.ok) {
    try {
      const parsed = planSchema.safeParse(JSON.parse(res.stdout));
      if (parsed.success) return { ok: true, plan: parsed.data, shown };
    } catch {
      // not JSON: reported below with turbo's stderr
    }
  }
  return { ok: false, refused: !res.ok, shown, exitCode: res.exitCode, stderr: res.stderr };
}
