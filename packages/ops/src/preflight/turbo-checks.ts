/**
 * Preflight checks of the root turbo.json (turbo 2): strict env mode lets a task see only the
 * variables it declares (C-17), secrets must not be hashed into cache keys, side-effect tasks must
 * not be cached and build tasks should declare outputs (C-19).
 *
 * Env semantics follow turborepo's `crates/turborepo-env`: each list (`env`, `passThroughEnv`,
 * `globalEnv`, `globalPassThroughEnv`) is resolved on its own as "matches an include pattern and
 * no `!` pattern"; `*` matches any run of characters; `\!` and `\*` are literal. Task resolution:
 * a root `pkg#task` entry replaces the generic `task` entry for that package.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import type * as JsoncParser from "jsonc-parser";
import { ConfigError } from "../errors.ts";
import type { Runner } from "../runner/types.ts";
import type { CheckResult } from "./types.ts";

/** What the repository expects of turbo.json. */
export interface TurboRules {
  /** Task id (`db-migrate`, or `backend#deploy`) → variables the task must see in strict env mode. */
  requiredEnv: Record<string, string[]>;
  /** Variable names (or `PREFIX_*` patterns) that must never be in `env`/`globalEnv`, only in `passThroughEnv`. */
  secretEnv: string[];
  /** Tasks with side effects (deploy, migrate): must set `cache: false`. */
  sideEffectTasks: string[];
  /** Tasks that produce files: should declare non-empty `outputs`. */
  buildTasks: string[];
}

type Json = Record<string, unknown>;

const ENV_KEYS = ["env", "passThroughEnv"] as const;
const GLOBAL_ENV_KEYS = ["globalEnv", "globalPassThroughEnv"] as const;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** turborepo's `wildcard_to_regex_pattern`: `*` → `.*`, `\*` is a literal star. */
function wildcardToRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\" && pattern[i + 1] === "*") {
      out += "\\*";
      i++;
    } else if (c === "*") {
      if (!out.endsWith(".*")) out += ".*";
    } else out += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

export interface ListDecision {
  included: boolean;
  /** The include pattern that matched. */
  includedBy?: string;
  /** The `!` pattern that excluded it. */
  excludedBy?: string;
}

/** Whether one env list lets `name` through (include match and no `!` match), by turborepo's rules. */
export function decide(list: readonly string[], name: string): ListDecision {
  let includedBy: string | undefined;
  let excludedBy: string | undefined;
  for (const entry of list) {
    if (entry.startsWith("!")) {
      if (!excludedBy && wildcardToRegex(entry.slice(1)).test(name)) excludedBy = entry;
    } else {
      const pattern = entry.startsWith("\\!") ? entry.slice(1) : entry;
      if (!includedBy && wildcardToRegex(pattern).test(name)) includedBy = entry;
    }
  }
  return {
    included: includedBy !== undefined && excludedBy === undefined,
    ...(includedBy ? { includedBy } : {}),
    ...(excludedBy ? { excludedBy } : {}),
  };
}

/** Whether two `*`-patterns can match a common name (for secret patterns such as `OPS_SECRET_*`). */
function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<string, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = `${i},${j}`;
    const cached = memo.get(key);
    if (cached !== undefined) return cached;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === "*") r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === "*") r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}

/** Whether a `secretEnv` entry (name or pattern) gets into a hashed env list. */
function secretInList(list: readonly string[], secret: string): string | undefined {
  const literalSecret = secret.replace(/\\\*/g, "*");
  for (const entry of list) {
    if (entry.startsWith("!")) continue;
    const pattern = entry.startsWith("\\!") ? entry.slice(1) : entry;
    const hit = secret.includes("*") ? patternsOverlap(pattern, secret) : wildcardToRegex(pattern).test(secret);
    if (!hit) continue;
    // A `!` pattern covering the whole secret (name, or pattern read literally) takes it out again.
    const excluded = list.some((e) => e.startsWith("!") && wildcardToRegex(e.slice(1)).test(literalSecret));
    if (!excluded) return entry;
  }
  return undefined;
}

/** One task definition picked for a task id, with the key it came from. */
interface ResolvedTask {
  key: string;
  def: Json;
}

/**
 * The entries that define `taskId`: for `pkg#task`, `tasks["pkg#task"]` else `tasks["task"]`;
 * for a generic `task`, the generic entry plus every `*#task` override (each replaces it for its
 * package). Empty when nothing defines it.
 */
function resolveTask(tasks: Json, taskId: string): ResolvedTask[] {
  const hash = taskId.indexOf("#");
  if (hash > 0) {
    const generic = taskId.slice(hash + 1);
    for (const key of [taskId, generic]) {
      const def = tasks[key];
      if (isObject(def)) return [{ key, def }];
    }
    return [];
  }
  return Object.entries(tasks)
    .filter(([key, def]) => (key === taskId || key.endsWith(`#${taskId}`)) && isObject(def))
    .map(([key, def]) => ({ key, def: def as Json }));
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Shape problems that would make the other checks meaningless, or that turbo itself rejects. */
function checkShape(json: Json, where: string): CheckResult[] {
  const results: CheckResult[] = [];
  const badList = (path: string, value: unknown) => {
    if (value === undefined || (Array.isArray(value) && value.every((v) => typeof v === "string"))) return;
    results.push({
      id: "turbo.schema",
      status: "fail",
      message: `${path} must be an array of variable names`,
      where: `${where} ${path}`,
      fix: `write ${path} as ["NAME", "PREFIX_*"]`,
    });
  };
  for (const key of GLOBAL_ENV_KEYS) badList(key, json[key]);
  for (const [key, def] of Object.entries(json.tasks as Json)) {
    if (!isObject(def)) {
      results.push({
        id: "turbo.schema",
        status: "fail",
        message: `tasks["${key}"] is not an object`,
        where: `${where} tasks["${key}"]`,
        fix: `write tasks["${key}"] as an object, e.g. {}`,
      });
      continue;
    }
    for (const envKey of ENV_KEYS) badList(`tasks["${key}"].${envKey}`, def[envKey]);
  }
  return results;
}

/** Required variables of one task (C-17). */
function checkRequiredEnv(json: Json, tasks: Json, taskId: string, names: readonly string[], where: string): CheckResult[] {
  const resolved = resolveTask(tasks, taskId);
  if (resolved.length === 0) {
    return [
      {
        id: "turbo.task",
        status: "fail",
        message: `turbo.json defines no task "${taskId}"${taskId.includes("#") ? ` (neither tasks["${taskId}"] nor tasks["${taskId.slice(taskId.indexOf("#") + 1)}"])` : ""}, so turbo cannot run it`,
        where: `${where} tasks`,
        fix: `add tasks["${taskId}"] with "cache": false and "passThroughEnv": [${names.map((n) => `"${n}"`).join(", ")}]`,
      },
    ];
  }
  const results: CheckResult[] = [];
  for (const { key, def } of resolved) {
    const lists: Array<[string, string[]]> = [
      [`tasks["${key}"].env`, stringList(def.env)],
      [`tasks["${key}"].passThroughEnv`, stringList(def.passThroughEnv)],
      ["globalEnv", stringList(json.globalEnv)],
      ["globalPassThroughEnv", stringList(json.globalPassThroughEnv)],
    ];
    const taskExclusions = [...stringList(def.env), ...stringList(def.passThroughEnv)];
    let missing = 0;
    for (const name of names) {
      const decisions = lists.map(([path, list]) => ({ path, ...decide(list, name) }));
      const taskExclude = decide(taskExclusions, name).excludedBy;
      const covered = decisions.some((d) => d.included) && taskExclude === undefined;
      if (covered) continue;
      missing++;
      const excluded = decisions.find((d) => d.excludedBy);
      const taskList = decisions.slice(0, 2).find((d) => d.excludedBy === taskExclude)?.path ?? `tasks["${key}"]`;
      const alreadyPassed = decide(stringList(def.passThroughEnv), name).includedBy !== undefined;
      results.push({
        id: "turbo.env",
        status: "fail",
        message: taskExclude
          ? `task "${key}" does not get ${name}: "${taskExclude}" in ${taskList} removes it, and in strict env mode turbo runs the task without it`
          : `task "${key}" does not declare ${name}${excluded ? ` ("${excluded.excludedBy}" in ${excluded.path} removes it)` : ""}; in strict env mode turbo runs the task without it`,
        where: `${where} tasks["${key}"]`,
        fix: taskExclude
          ? `remove "${taskExclude}" from ${taskList}${alreadyPassed ? "" : ` and add "${name}" to tasks["${key}"].passThroughEnv`} in turbo.json`
          : `add "${name}" to tasks["${key}"].passThroughEnv in turbo.json`,
      });
    }
    if (missing === 0) {
      results.push({
        id: "turbo.env",
        status: "pass",
        message: `task "${key}" declares ${names.join(", ")}`,
        where: `${where} tasks["${key}"]`,
      });
    }
  }
  return results;
}

/** Secrets in hashed env lists (`env`, `globalEnv`). */
function checkSecrets(json: Json, tasks: Json, secrets: readonly string[], where: string): CheckResult[] {
  const results: CheckResult[] = [];
  const hashed: Array<[string, string[], string]> = [
    ["globalEnv", stringList(json.globalEnv), "globalPassThroughEnv"],
    ...Object.entries(tasks)
      .filter(([, def]) => isObject(def))
      .map(([key, def]): [string, string[], string] => [
        `tasks["${key}"].env`,
        stringList((def as Json).env),
        `tasks["${key}"].passThroughEnv`,
      ]),
  ];
  for (const secret of secrets) {
    for (const [path, list, passThrough] of hashed) {
      const entry = secretInList(list, secret);
      if (!entry) continue;
      const viaPattern = entry !== secret;
      results.push({
        id: "turbo.secret-env",
        status: "fail",
        message: `${path} includes the secret ${secret}${viaPattern ? ` (through "${entry}")` : ""}; turbo hashes env values into the cache key and prints the inputs in run summaries`,
        where: `${where} ${path}`,
        fix: viaPattern
          ? `add "!${secret}" to ${path} (or narrow "${entry}") and list "${secret}" in ${passThrough}`
          : `move "${secret}" from ${path} to ${passThrough}`,
      });
    }
  }
  return results;
}

/** `cache: false` on side-effect tasks, `outputs` on build tasks (C-19). */
function checkCaching(tasks: Json, rules: TurboRules, where: string, alreadyMissing: Set<string>): CheckResult[] {
  const results: CheckResult[] = [];
  const missingTask = (taskId: string, fix: string): CheckResult => ({
    id: "turbo.task",
    status: "fail",
    message: `turbo.json defines no task "${taskId}", so turbo cannot run it`,
    where: `${where} tasks`,
    fix,
  });
  for (const taskId of rules.sideEffectTasks) {
    const resolved = resolveTask(tasks, taskId);
    if (resolved.length === 0) {
      if (!alreadyMissing.has(taskId)) results.push(missingTask(taskId, `add tasks["${taskId}"] with "cache": false`));
      continue;
    }
    for (const { key, def } of resolved) {
      if (def.cache === false) continue;
      results.push({
        id: "turbo.cache",
        status: "fail",
        message: `task "${key}" has side effects but ${def.cache === undefined ? 'does not set "cache": false' : `sets "cache": ${JSON.stringify(def.cache)}`}; on a cache hit turbo replays the old log and skips the work`,
        where: `${where} tasks["${key}"]`,
        fix: `set "cache": false on tasks["${key}"] in turbo.json`,
      });
    }
  }
  for (const taskId of rules.buildTasks) {
    const resolved = resolveTask(tasks, taskId);
    if (resolved.length === 0) {
      if (!alreadyMissing.has(taskId))
        results.push(missingTask(taskId, `add tasks["${taskId}"] with "outputs": ["dist/**"] (the folders it writes)`));
      continue;
    }
    for (const { key, def } of resolved) {
      if (def.cache === false) continue;
      const outputs = stringList(def.outputs);
      if (outputs.length > 0) continue;
      results.push({
        id: "turbo.outputs",
        status: "warn",
        message: `task "${key}" ${def.outputs === undefined ? "declares no outputs" : "has empty outputs"}; a cache hit restores no files, so later tasks find no build`,
        where: `${where} tasks["${key}"]`,
        fix: `set "outputs" on tasks["${key}"] to the folders it writes, e.g. ["build/**", "bin/**"]`,
      });
    }
  }
  return results;
}

/**
 * Checks a parsed turbo.json against `rules`. Returns `fail` for a missing required variable
 * (naming task, variable and the `passThroughEnv` fix), a secret in `env`/`globalEnv`, a
 * side-effect task without `cache: false`, a missing task, or a malformed document; `warn` for a
 * build task without outputs; `pass` per task whose required variables are all declared.
 * `where` prefixes every location (default `turbo.json`). Never throws.
 */
export function checkTurboJson(turboJson: unknown, rules: TurboRules, where = "turbo.json"): CheckResult[] {
  if (!isObject(turboJson)) {
    return [
      {
        id: "turbo.schema",
        status: "fail",
        message: `${where} is not a JSON object`,
        where,
        fix: 'write turbo.json as { "tasks": { … } }',
      },
    ];
  }
  if (!isObject(turboJson.tasks)) {
    const turbo1 = isObject(turboJson.pipeline);
    return [
      {
        id: "turbo.schema",
        status: "fail",
        message: turbo1 ? `${where} uses the turbo 1 "pipeline" key; turbo 2 reads "tasks"` : `${where} has no "tasks" object`,
        where,
        fix: turbo1 ? 'rename "pipeline" to "tasks" (npx @turbo/codemod migrate)' : 'add "tasks": { … } to turbo.json',
      },
    ];
  }
  const tasks = turboJson.tasks;
  const results = checkShape(turboJson, where);
  const missing = new Set<string>();
  for (const [taskId, names] of Object.entries(rules.requiredEnv)) {
    const found = checkRequiredEnv(turboJson, tasks, taskId, names, where);
    if (found.some((r) => r.id === "turbo.task")) missing.add(taskId);
    results.push(...found);
  }
  results.push(...checkSecrets(turboJson, tasks, rules.secretEnv, where));
  results.push(...checkCaching(tasks, rules, where, missing));
  return results;
}

/**
 * Reads (synchronously; it is a small config file) and parses a turbo.json as JSONC with
 * `jsonc-parser` (`//` and `/* *\/` comments and trailing commas allowed, as turbo 2 allows them).
 * Returns the parsed value unchecked; pass it to {@link checkTurboJson}.
 * @throws {ConfigError} when the file cannot be read, or is not valid JSON; `where` is
 *   `path:line:col` (1-based) of the first syntax error.
 */
export function loadTurboJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `${path} does not exist` : `cannot read ${path} (${code ?? String(err)})`, {
      where: path,
      fix: "run from the repository root, where turbo.json is",
      cause: err,
    });
  }
  // Loaded here, synchronously, so the commands that never read turbo.json do not load it.
  const { parse, printParseErrorCode } = createRequire(import.meta.url)("jsonc-parser") as typeof JsoncParser;
  // A BOM becomes a space, so offsets (and columns) stay those of the file.
  const errors: JsoncParser.ParseError[] = [];
  const value: unknown = parse(text.replace(/^\uFEFF/, " "), errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (!first) return value;
  const before = text.slice(0, first.offset);
  const line = before.split("\n").length;
  const col = first.offset - before.lastIndexOf("\n");
  // jsonc-parser's code names (`CommaExpected`) as words: "comma expected".
  const reason = printParseErrorCode(first.error)
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .toLowerCase();
  throw new ConfigError(`${path} is not valid JSON at line ${line}, column ${col}: ${reason}`, {
    where: `${path}:${line}:${col}`,
    fix: `fix the JSON syntax at ${path}:${line}:${col}`,
  });
}

/** The `environmentVariables` block of a task (or of `globalCacheInputs`) in `turbo run --dry=json`. */
interface DryRunEnv {
  configured?: string[] | null;
  inferred?: string[] | null;
  passthrough?: string[] | null;
}

/** Names (`NAME=hash` entries) of the variables turbo resolved for a task, from every list it reports. */
const resolvedNames = (e: DryRunEnv | undefined) =>
  new Set([...(e?.configured ?? []), ...(e?.inferred ?? []), ...(e?.passthrough ?? [])].map((entry) => entry.split("=")[0]!));

export interface TurboPassThroughOptions {
  repoRoot: string;
  /** The environment turbo would start with (`OpsEnv.processEnv`); only names are read and shown, never values. */
  processEnv: Readonly<Record<string, string | undefined>>;
  /** The variables (or `*` patterns) the tool reads: `variablesRead()` of env.ts. */
  variables: readonly string[];
  /** The pipeline's last task. @default "production-deploy" */
  task?: string;
  /** Applied to turbo's stderr before it is shown. */
  redact?: (text: string) => string;
}

/**
 * Asks turbo itself which variables each task of the pipeline would get: runs
 * `turbo run <task> --dry=json` (which changes nothing) and reads, per task and for the global
 * inputs, the names in `environmentVariables.configured`, `.inferred` and `.passthrough` (turbo
 * lists there the set variables that pass its strict env mode). Every variable the tool reads that
 * is set in this shell but reaches none of the pipeline's tasks (build tasks aside) gives one
 * `warn` naming them: turbo would strip them and the pipeline would run as if they were unset.
 * Inside a turbo task (`TURBO_HASH` set) turbo has already filtered the environment, so the check
 * only says so. Never throws; a turbo that does not run is a `warn` with its stderr (redacted).
 */
export async function checkTurboPassThrough(runner: Runner, opts: TurboPassThroughOptions): Promise<CheckResult[]> {
  const id = "turbo.passthrough";
  const task = opts.task ?? "production-deploy";
  const redact = opts.redact ?? ((t: string) => t);
  if (opts.processEnv.TURBO_HASH !== undefined) {
    return [
      {
        id,
        status: "pass",
        message: `running as a turbo task: turbo already chose this task's variables (run \`pnpm ops:preflight\` outside turbo to see which it would strip)`,
      },
    ];
  }
  const set = Object.keys(opts.processEnv).filter((name) => opts.processEnv[name] !== undefined);
  const read = set.filter((name) => decide(opts.variables, name).included).sort();
  const local = join(opts.repoRoot, "node_modules", ".bin", "turbo");
  const cmd = { file: existsSync(local) ? local : "turbo", args: ["run", task, "--dry=json"], cwd: opts.repoRoot };
  const shown = `turbo run ${task} --dry=json`;
  const res = await runner(cmd, { timeoutMs: 60_000 });
  let dry:
    | {
        globalCacheInputs?: { environmentVariables?: DryRunEnv };
        tasks?: { taskId: string; task: string; environmentVariables?: DryRunEnv }[];
      }
    | undefined;
  try {
    dry = res.ok ? JSON.parse(res.stdout) : undefined;
  } catch {
    dry = undefined;
  }
  if (!dry || !Array.isArray(dry.tasks)) {
    const lines = res.stderr
      .split("\n")
      .map((l) => l.trimEnd())
      .filter(Boolean)
      .slice(-6)
      .map(redact);
    return [
      {
        id,
        status: "warn",
        message: `could not ask turbo which variables reach the pipeline: \`${shown}\` ${res.ok ? "did not print the JSON summary" : `failed (exit ${res.exitCode ?? "signal"})`}${lines.length ? `; it said:\n      ${lines.join("\n      ")}` : ""}`,
        where: "turbo.json",
        fix: `Run \`pnpm ${shown}\` by hand and fix what it says; until then variables turbo strips are not checked.`,
      },
    ];
  }
  const global = resolvedNames(dry.globalCacheInputs?.environmentVariables);
  const pipeline = dry.tasks.filter((t) => t.task !== "build");
  const perTask = pipeline.map((t) => resolvedNames(t.environmentVariables));
  const stripped = read.filter((name) => !global.has(name) && perTask.every((names) => !names.has(name)));
  if (stripped.length === 0) {
    return [
      {
        id,
        status: "pass",
        message: `turbo passes each of the ${read.length} variables this tool reads that are set here to the ${task} pipeline (asked \`${shown}\`)`,
      },
    ];
  }
  return [
    {
      id,
      status: "warn",
      message: `turbo would strip ${stripped.join(", ")} from every task of \`turbo run ${task}\` (strict env mode, answered by \`${shown}\`): the pipeline would run as if ${stripped.length > 1 ? "they were" : "it was"} unset, while \`pnpm ops:*\` commands run directly see ${stripped.length > 1 ? "them" : "it"}`,
      where: "turbo.json globalPassThroughEnv",
      fix: `Add ${stripped.length > 1 ? "them" : "it"} to "globalPassThroughEnv" in turbo.json (or to the "passThroughEnv" of the tasks that need ${stripped.length > 1 ? "them" : "it"}); docs/production-operations.md, "Environment variables and turbo", lists what is passed already.`,
    },
  ];
}
