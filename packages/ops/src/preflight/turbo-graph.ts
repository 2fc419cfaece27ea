/**
 * Checks of the pipeline against turbo's own plan (`turbo run production-deploy --dry=json`, see
 * turbo-plan.ts) rather than turbo.json's text: which tasks really run (a package script exists),
 * in which order (the plan's dependencies, followed transitively), in which env mode, and which
 * variables each task gets (turbo's own lists, asked with every required variable set). turbo.json
 * is read only to name the entry a fix goes in, which the plan does not show. Task names in the
 * messages are the plan's (`@repo/scripts#db-migrate`, `client#deploy`, `//#name` for the root).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Runner } from "../runner/types.ts";
import type { CheckResult } from "./types.ts";
import { askTurboPlan, NO_COMMAND, planArgs, type TurboPlan, type TurboPlanTask } from "./turbo-plan.ts";
import { decide, loadTurboJson, type TurboRules } from "./turbo-checks.ts";

/** The pipeline's steps: the scripts of `scripts/package.json` that `turbo run production-deploy` orders. */
export const PIPELINE_TASKS = {
  preflight: "production-preflight",
  secrets: "production-sync-secrets",
  migrate: "db-migrate",
  artifacts: "production-artifacts",
  smoke: "production-smoke",
  finish: "production-deploy",
} as const;

/** The per-app task every deployed app's package runs (`<package>#deploy`). */
export const DEPLOY_TASK = "deploy";

export interface TurboGraphInput {
  deployOrder: readonly string[];
  /** `ops.config.ts` apps: the folder of each app's package, and the build outputs the deploy ships (none for an image-only app). */
  apps: Readonly<Record<string, { dir?: string | undefined; artifacts?: readonly string[] | undefined }>>;
  rules: Pick<TurboRules, "requiredEnv" | "sideEffectTasks">;
  /** The command asked, for messages (`turbo run production-deploy --dry=json`). */
  shown: string;
  /** turbo.json's task keys: where a fix goes (`tasks["client#deploy"]`, else `tasks["deploy"]`). */
  turboJsonTasks?: readonly string[];
  /** An app folder's package name (from its package.json), for a fix when the plan has no task there. */
  packageNameOf?: (dir: string) => string | undefined;
}

const norm = (dir: string) => dir.replace(/^\.\//, "").replace(/\/+$/, "");
const quoted = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(", ");

/** The turbo.json entry that defines `taskId` (`pkg#task` when present, else the generic `task`). */
function entryOf(taskId: string, keys: readonly string[] | undefined): string {
  const generic = taskId.slice(taskId.indexOf("#") + 1);
  if (!keys) return generic;
  if (keys.includes(taskId)) return taskId;
  if (taskId.startsWith("//#") && keys.includes(generic)) return generic;
  return keys.includes(generic) ? generic : taskId;
}

/** Every task each task waits for, directly or not, by the plan's `dependencies`. */
function transitiveDependencies(plan: TurboPlan): Map<string, Set<string>> {
  const byId = new Map(plan.tasks.map((t) => [t.taskId, t]));
  const memo = new Map<string, Set<string>>();
  const visit = (id: string, path: Set<string>): Set<string> => {
    const known = memo.get(id);
    if (known) return known;
    const out = new Set<string>();
    if (path.has(id)) return out; // turbo refuses cycles; never loop on one anyway
    path.add(id);
    for (const dep of byId.get(id)?.dependencies ?? []) {
      out.add(dep);
      for (const d of visit(dep, path)) out.add(d);
    }
    path.delete(id);
    memo.set(id, out);
    return out;
  };
  for (const t of plan.tasks) visit(t.taskId, new Set());
  return memo;
}

const runs = (t: TurboPlanTask) => t.command !== NO_COMMAND;

/** The tasks of the plan a rule key names: `pkg#task` (or `//#task`) exactly, a bare name by task name. */
function tasksNamed(plan: TurboPlan, key: string): TurboPlanTask[] {
  return plan.tasks.filter((t) => (key.includes("#") ? t.taskId === key : t.task === key));
}

/** Names of the variables turbo lists for a task (or globally): `NAME=hash` entries of every list. */
function visibleNames(e: TurboPlanTask["environmentVariables"] | undefined): string[] {
  return [...(e?.configured ?? []), ...(e?.inferred ?? []), ...(e?.passthrough ?? [])].map((entry) => entry.split("=")[0]!);
}

/**
 * Checks turbo's plan of the pipeline. Returns, by id: `turbo.plan` (the plan has no task, or no
 * deploy task that runs), `turbo.task` (a step no package has a script for, or one turbo would
 * run twice), `turbo.deploy` (per app: its deploy task and the script it runs), `turbo.order`
 * (each edge preflight → secrets/migrate/artifacts → each deploy in `deployOrder` → smoke →
 * finish, and each build of a deployed app → artifacts, present transitively), `turbo.lock-first`
 * (a task writing a deployed app's files before preflight took the lock), `turbo.build` (an app
 * whose deploy ships build outputs but the plan builds nothing for it), `turbo.cache` (a
 * side-effect task turbo would cache) and `turbo.env` (a required variable turbo would not pass,
 * judged under each task's env mode). Never throws.
 */
export function checkTurboGraph(plan: TurboPlan, input: TurboGraphInput): CheckResult[] {
  const { shown } = input;
  const where = (taskId: string) => `turbo.json tasks["${entryOf(taskId, input.turboJsonTasks)}"]`;
  if (plan.tasks.length === 0) {
    return [
      {
        id: "turbo.plan",
        status: "fail",
        message: `\`${shown}\` plans no task at all: the filter selects nothing, so the pipeline would do nothing`,
        where: "turbo.json",
        fix: "Run the pipeline without a filter, or with one that selects the packages of scripts/ and of every app in deployOrder.",
      },
    ];
  }
  const results: CheckResult[] = [];
  /** Task keys already reported missing, so a requiredEnv rule about them adds nothing. */
  const reported = new Set<string>();
  const deps = transitiveDependencies(plan);
  const after = (first: TurboPlanTask, then: TurboPlanTask) => deps.get(then.taskId)?.has(first.taskId) ?? false;

  // The steps of the pipeline: exactly one task of each name must run.
  const steps: Partial<Record<keyof typeof PIPELINE_TASKS, TurboPlanTask>> = {};
  for (const [role, name] of Object.entries(PIPELINE_TASKS) as [keyof typeof PIPELINE_TASKS, string][]) {
    const named = plan.tasks.filter((t) => t.task === name);
    const running = named.filter(runs);
    if (running.length === 0) {
      reported.add(name);
      results.push({
        id: "turbo.task",
        status: "fail",
        message: named.length
          ? `turbo's plan (\`${shown}\`) selects ${quoted(named.map((t) => t.taskId))}, none of which has a "${name}" script: turbo would run nothing for that step`
          : `turbo's plan (\`${shown}\`) has no "${name}" task: the pipeline would skip that step`,
        where: "turbo.json tasks",
        fix: `If a filter narrows the run, let it select scripts/ (the package with the "${name}" script); otherwise give scripts/package.json a "${name}" script and make the pipeline depend on it (tasks["${name}"] in turbo.json, as in the README's graph).`,
      });
      continue;
    }
    if (running.length > 1) {
      results.push({
        id: "turbo.task",
        status: "warn",
        message: `turbo would run the "${name}" step ${running.length} times: ${quoted(running.map((t) => t.taskId))} (a root script and a package script, or two packages)`,
        where: "package.json scripts",
        fix: `Keep the "${name}" script in scripts/package.json only.`,
      });
    }
    steps[role] = running.find((t) => t.package !== "//") ?? running[0]!;
  }

  // One deploy task per app of deployOrder, in the app's folder, with a script.
  const deploys: TurboPlanTask[] = [];
  const anyDeploy = plan.tasks.some((t) => t.task === DEPLOY_TASK && runs(t));
  if (!anyDeploy) {
    results.push({
      id: "turbo.plan",
      status: "fail",
      message: `turbo's plan (\`${shown}\`) contains no "${DEPLOY_TASK}" task that runs: no app would be deployed`,
      where: "turbo.json tasks",
      fix: `Make the pipeline depend on each app's "${DEPLOY_TASK}" task and give each app's package.json a "${DEPLOY_TASK}" script.`,
    });
  }
  for (const app of input.deployOrder) {
    const dir = norm(input.apps[app]?.dir ?? app);
    const task = plan.tasks.find((t) => t.task === DEPLOY_TASK && t.directory !== undefined && norm(t.directory) === dir);
    const pkg = task?.package ?? input.packageNameOf?.(dir);
    if (!task || !runs(task)) reported.add(`${pkg}#${DEPLOY_TASK}`);
    if (!task) {
      results.push({
        id: "turbo.deploy",
        status: "fail",
        message: `turbo's plan (\`${shown}\`) has no deploy task for ${app} (package ${pkg ?? `in ${dir}`}): the pipeline would never deploy it`,
        where: "turbo.json tasks",
        fix: `Add tasks["${pkg ?? "<package>"}#${DEPLOY_TASK}"] to turbo.json (depending on production-artifacts and the deploy before it in deployOrder) and make production-smoke depend on it.`,
      });
      continue;
    }
    if (!runs(task)) {
      results.push({
        id: "turbo.deploy",
        status: "fail",
        message: `${task.taskId} is in turbo's plan, but ${dir}/package.json has no "${DEPLOY_TASK}" script, so turbo runs nothing for ${app}`,
        where: `${dir}/package.json scripts`,
        fix: `Add "${DEPLOY_TASK}": "tsx ../../scripts/deploy.ts ${app} --pipeline" to the scripts of ${dir}/package.json.`,
      });
      continue;
    }
    deploys.push(task);
    const namesApp = new RegExp(`(^|[^\\w-])${app.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^\\w-]|$)`).test(task.command);
    results.push(
      namesApp
        ? { id: "turbo.deploy", status: "pass", message: `${task.taskId} deploys ${app}: \`${task.command}\`` }
        : {
            id: "turbo.deploy",
            status: "warn",
            message: `${task.taskId} runs \`${task.command}\`, which does not name ${app}: it may deploy another app`,
            where: `${dir}/package.json scripts`,
            fix: `Make it "tsx ../../scripts/deploy.ts ${app} --pipeline".`,
          },
    );
  }

  // Order: each edge must hold transitively in the plan.
  const edges: [TurboPlanTask | undefined, TurboPlanTask | undefined, string][] = [];
  const s = steps;
  edges.push([s.preflight, s.secrets, "secrets would be staged before the run holds the deploy lock"]);
  edges.push([s.preflight, s.migrate, "migrations would run before the run holds the deploy lock"]);
  edges.push([s.preflight, s.artifacts, "builds would be snapshotted before the run holds the deploy lock"]);
  for (const d of deploys) {
    edges.push([s.secrets, d, "the app would be deployed before its secrets are staged"]);
    edges.push([s.migrate, d, "the app would be deployed before the migrations ran"]);
    edges.push([s.artifacts, d, "the app would be deployed before this run's build snapshot exists"]);
    edges.push([d, s.smoke, "the smoke checks would run before this app is deployed"]);
  }
  for (let i = 1; i < deploys.length; i++) edges.push([deploys[i - 1], deploys[i], "deployOrder would not be kept"]);
  edges.push([s.smoke, s.finish, "the run would be recorded as succeeded before its smoke checks"]);
  const appDirs = new Set(input.deployOrder.map((a) => norm(input.apps[a]?.dir ?? a)));
  const writers = plan.tasks.filter(
    (t) => runs(t) && t.task !== DEPLOY_TASK && t.directory !== undefined && appDirs.has(norm(t.directory)),
  );
  const writesFiles = writers.filter((t) => (t.resolvedTaskDefinition?.outputs ?? []).length > 0);
  for (const w of writesFiles) edges.push([w, s.artifacts, "the build snapshot could be taken before this build wrote its output"]);
  for (const app of input.deployOrder) {
    const cfg = input.apps[app];
    const dir = norm(cfg?.dir ?? app);
    if (!cfg?.artifacts?.length || !s.artifacts || writesFiles.some((w) => norm(w.directory!) === dir)) continue;
    results.push({
      id: "turbo.build",
      status: "fail",
      message: `turbo's plan (\`${shown}\`) builds nothing in ${dir}: ${s.artifacts.taskId} would snapshot whatever ${cfg.artifacts.map((a) => `${dir}/${a}`).join(", ")} holds now (an old build, or another one's) and ${app} would ship it`,
      where: where(s.artifacts.taskId),
      fix: `Add "${input.packageNameOf?.(dir) ?? "<package>"}#production-build" to ${where(s.artifacts.taskId).slice("turbo.json ".length)}.dependsOn in turbo.json (and a "production-build" script to ${dir}/package.json).`,
    });
  }
  let missing = 0;
  for (const [first, then, why] of edges) {
    if (!first || !then || after(first, then)) continue;
    missing++;
    results.push({
      id: "turbo.order",
      status: "fail",
      message: `${then.taskId} does not wait for ${first.taskId} in turbo's plan (\`${shown}\`): ${why}`,
      where: where(then.taskId),
      fix: `Add "${first.taskId}" (or a task that depends on it) to ${where(then.taskId).slice("turbo.json ".length)}.dependsOn in turbo.json.`,
    });
  }
  if (missing === 0 && s.preflight && s.finish && deploys.length > 0) {
    results.push({
      id: "turbo.order",
      status: "pass",
      message: `turbo's plan orders ${s.preflight.taskId} → ${[s.secrets, s.migrate, s.artifacts]
        .filter(Boolean)
        .map((t) => t!.taskId)
        .join(" + ")} → ${deploys.map((d) => d.taskId).join(" → ")} → ${s.smoke?.taskId ?? "?"} → ${s.finish.taskId}`,
    });
  }

  // Lock first: nothing may write a deployed app's files before preflight holds the lock.
  for (const w of writesFiles) {
    if (!s.preflight || after(s.preflight, w)) continue;
    results.push({
      id: "turbo.lock-first",
      status: "fail",
      message: `${w.taskId} writes ${(w.resolvedTaskDefinition?.outputs ?? []).join(", ")} in ${w.directory} before the run holds the deploy lock: a run the lock refuses would still rewrite that output while another run deploys`,
      where: where(w.taskId),
      fix: `Make it wait for "${s.preflight.taskId}" (the pipeline builds through "production-build" tasks that do; depend on those, not on "build").`,
    });
  }

  // Side effects are never cached.
  for (const key of input.rules.sideEffectTasks) {
    for (const t of tasksNamed(plan, key).filter(runs)) {
      if (t.resolvedTaskDefinition?.cache === false) continue;
      results.push({
        id: "turbo.cache",
        status: "fail",
        message: `${t.taskId} has side effects but turbo's plan caches it: on a cache hit turbo replays the old log and skips the work`,
        where: where(t.taskId),
        fix: `Set "cache": false on ${where(t.taskId).slice("turbo.json ".length)} in turbo.json.`,
      });
    }
  }

  // Variables each task gets, as turbo answers under the env mode in force for it.
  const globalNames = new Set(visibleNames(plan.globalCacheInputs?.environmentVariables));
  for (const [key, required] of Object.entries(input.rules.requiredEnv)) {
    const tasks = tasksNamed(plan, key).filter(runs);
    if (tasks.length === 0 && (reported.has(key) || reported.has(key.slice(key.indexOf("#") + 1)))) continue;
    if (tasks.length === 0) {
      results.push({
        id: "turbo.env",
        status: "warn",
        message: `ops.config.ts turbo.requiredEnv names "${key}", which turbo's plan (\`${shown}\`) does not run`,
        where: "ops.config.ts turbo.requiredEnv",
        fix: `Use a task id of the plan: ${quoted([...new Set(plan.tasks.filter(runs).map((t) => (key.includes("#") ? t.taskId : t.task)))].slice(0, 12))}.`,
      });
      continue;
    }
    for (const t of tasks) {
      if ((t.envMode ?? plan.envMode) === "loose") {
        results.push({ id: "turbo.env", status: "pass", message: `${t.taskId} runs in loose env mode: turbo passes it every variable` });
        continue;
      }
      const seen = new Set([...visibleNames(t.environmentVariables), ...globalNames]);
      const absent = required.filter((n) => !seen.has(n));
      if (absent.length === 0) {
        results.push({ id: "turbo.env", status: "pass", message: `${t.taskId} gets ${required.join(", ")}` });
        continue;
      }
      const def = t.resolvedTaskDefinition;
      const own = [...(def?.env ?? []), ...(def?.passThroughEnv ?? [])];
      const removedBy = absent.map((n) => decide(own, n).excludedBy).filter((x): x is string => x !== undefined);
      results.push({
        id: "turbo.env",
        status: "fail",
        message: `turbo would start ${t.taskId} without ${absent.join(", ")} (strict env mode, answered by \`${shown}\`)${removedBy.length ? `: ${quoted([...new Set(removedBy)])} in its definition removes ${absent.length > 1 ? "them" : "it"}` : ""}`,
        where: where(t.taskId),
        fix: `${removedBy.length ? `Remove ${quoted([...new Set(removedBy)])} and a` : "A"}dd ${quoted(absent)} to ${where(t.taskId).slice("turbo.json ".length)}.passThroughEnv in turbo.json.`,
      });
    }
  }
  return results;
}

/** The keys of turbo.json's `tasks` (where a fix goes), or undefined when it cannot be read; turbo reports a broken file itself. */
function turboJsonTaskKeys(path: string): string[] | undefined {
  try {
    const tasks = (loadTurboJson(path) as { tasks?: unknown } | null)?.tasks;
    return typeof tasks === "object" && tasks !== null ? Object.keys(tasks) : undefined;
  } catch {
    return undefined;
  }
}

function packageName(path: string): string | undefined {
  try {
    const name: unknown = JSON.parse(readFileSync(path, "utf8")).name;
    return typeof name === "string" ? name : undefined;
  } catch {
    return undefined;
  }
}

export interface TurboPipelineOptions extends Omit<TurboGraphInput, "shown" | "packageNameOf"> {
  repoRoot: string;
  /** The arguments of the turbo command running now (`OPS_TURBO_RUN_ARGS`), replayed with `--dry=json`. */
  runArgs?: readonly string[];
  /** The environment turbo would start with; only names are read. */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** Applied to turbo's stderr before it is shown. */
  redact?: (text: string) => string;
}

/**
 * Asks turbo for the plan of `production-deploy` (this run's arguments when given, see
 * {@link planArgs}) with every variable of `rules.requiredEnv` set (a placeholder for those unset
 * here: turbo lists only variables that are set, and values are never read), then
 * {@link checkTurboGraph}. A turbo that cannot plan (a filter that selects no package, a task no
 * package has, a turbo.json turbo refuses) is one `turbo.plan` fail with turbo's own words,
 * redacted; a plan it prints but this module cannot read is one `turbo.plan` warn. Never throws.
 */
export async function checkTurboPipeline(runner: Runner, opts: TurboPipelineOptions): Promise<CheckResult[]> {
  const required = [...new Set(Object.values(opts.rules.requiredEnv).flat())];
  const placeholders = Object.fromEntries(required.filter((n) => opts.processEnv[n] === undefined).map((n) => [n, "set-by-preflight"]));
  const answer = await askTurboPlan(runner, {
    repoRoot: opts.repoRoot,
    args: planArgs(PIPELINE_TASKS.finish, opts.runArgs),
    env: placeholders,
  });
  if (!answer.ok && !answer.refused) {
    return [
      {
        id: "turbo.plan",
        status: "warn",
        message: `\`${answer.shown}\` printed no plan this check can read, so the pipeline's graph was not checked`,
        where: "turbo.json",
        fix: "Check that node_modules/.bin/turbo is the turbo of package.json (`pnpm install`); its --dry=json summary is read as turbo 2 prints it.",
      },
    ];
  }
  if (!answer.ok) {
    const redact = opts.redact ?? ((t: string) => t);
    const said = redact(answer.stderr)
      .split("\n")
      .map((l) => l.trimEnd())
      .filter((l) => l.trim() && !/WARNING/.test(l))
      .slice(-6);
    return [
      {
        id: "turbo.plan",
        status: "fail",
        message: `turbo cannot plan the pipeline: \`${answer.shown}\` failed (exit ${answer.exitCode ?? "signal"})${said.length ? `; it said:\n      ${said.join("\n      ")}` : ""}`,
        where: "turbo.json",
        fix: `Run \`pnpm ${answer.shown}\` and fix what it says (a filter that selects no package, a task no package has, a turbo.json turbo refuses).`,
      },
    ];
  }
  const turboJsonTasks = opts.turboJsonTasks ?? turboJsonTaskKeys(join(opts.repoRoot, "turbo.json"));
  return checkTurboGraph(answer.plan, {
    deployOrder: opts.deployOrder,
    apps: opts.apps,
    rules: opts.rules,
    shown: answer.shown,
    ...(turboJsonTasks ? { turboJsonTasks } : {}),
    packageNameOf: (dir) => packageName(join(opts.repoRoot, dir, "package.json")),
  });
}
