/**
 * Every `pnpm …` command the runbook (docs/production-operations.md), README.md and
 * infra/fly/README.md name, in code blocks and inline code, exists and is taken as written:
 * - `pnpm <script>`: a root package.json script (`pnpm install` is pnpm's own);
 * - `pnpm ops:<cmd> <sub> --flags`: the command's own CLI, run as the root script runs it with
 *   `--help`, accepts the sub-command, every argument and every flag (it refuses anything else
 *   with exit 2 before doing anything); a README table row's flag cells count as flags of the
 *   row's command;
 * - `pnpm --filter <pkg> <script>`: pnpm finds the package, and it has the script;
 * - `pnpm turbo run <task>`: turbo's own plan (`--dry=json`) has the task, and an `OPS_*=…`
 *   before it reaches every step turbo runs (strict env mode strips undeclared variables);
 * - `OPS_*=… pnpm …`: src/env.ts reads the variable.
 * Placeholders (`<release>`, `…`) stand for any value: `--help` does not look at values.
 */
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { marked, type Token, type Tokens } from "marked";
import { parse as parseShell } from "shell-quote";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../../../..");
const DOCS = ["docs/production-operations.md", "README.md", "infra/fly/README.md"];
const PNPM_OWN_COMMANDS = new Set(["install"]);

/** One `pnpm …` command a document names. */
interface DocCommand {
  doc: string;
  line: number;
  /** The command as written (one segment of a `&&` chain). */
  text: string;
  /** Names of the variables set before `pnpm` (`OPS_ENV=staging pnpm …`). */
  env: string[];
  /** The words after `pnpm`, placeholders dropped. */
  args: string[];
  /** A lone flag from a table cell (`-n`): the CLI may answer that it wants a value. */
  flagWithoutValue?: boolean;
}

/** `<release>`, `<RFC 3339 time>`: one word, so the shell does not read `<` as a redirect. */
const withoutPlaceholders = (text: string) => text.replace(/<[^<>\n]+>/g, "placeholder");
const isEllipsis = (word: string) => word === "…" || word === "...";

/** The `pnpm` commands of one shell line (`A=1 pnpm x && pnpm y # note`), split as a shell would (shell-quote). */
function pnpmCommands(text: string): Omit<DocCommand, "doc" | "line">[] {
  if (!/\bpnpm\b/.test(text)) return [];
  const words = parseShell(withoutPlaceholders(text).trim().replace(/^\$ /, ""), (name) => `$${name}`);
  const segments: (string | object)[][] = [[]];
  for (const w of words) {
    if (typeof w === "object" && "comment" in w) break;
    if (typeof w === "object" && "op" in w && w.op !== "glob") segments.push([]);
    else segments.at(-1)!.push(w);
  }
  const found: Omit<DocCommand, "doc" | "line">[] = [];
  for (const segment of segments) {
    const env: string[] = [];
    let i = 0;
    for (; typeof segment[i] === "string" && /^[A-Z_][A-Z0-9_]*=/.test(segment[i] as string); i++)
      env.push((segment[i] as string).split("=")[0]!);
    if (segment[i] !== "pnpm") continue;
    const rest = segment.slice(i + 1);
    // `pnpm ops:*` names the family, not a command.
    if (rest.length === 0 || rest.some((w) => typeof w !== "string")) continue;
    const args = (rest as string[]).filter((w) => !isEllipsis(w));
    found.push({ text: ["pnpm", ...rest].map(String).join(" "), env, args });
  }
  return found;
}

/**
 * Every `pnpm` command in the code blocks (each line, and each `…` span in an output line) and
 * code spans of a Markdown text, found with marked's lexer; a table row whose first cell names a
 * `pnpm ops:*` command also yields that command with each flag cell (`--since 10m`) of the row.
 */
function docCommands(doc: string, markdown: string): DocCommand[] {
  const found: DocCommand[] = [];
  // Tokens come in document order, so each snippet is looked up from the line of the one before.
  const lines = markdown.split("\n");
  let cursor = 0;
  const lineFrom = (at: (from: number) => number) => {
    const index = at(cursor) >= 0 ? at(cursor) : at(0);
    if (index >= 0) cursor = index;
    return index + 1;
  };
  const lineOf = (...snippets: string[]) =>
    lineFrom((from) => lines.findIndex((l, i) => i >= from && snippets.every((s) => l.includes(s))));
  // marked hands a code block's lines without the indentation of the list around it.
  const lineExactly = (text: string) => lineFrom((from) => lines.findIndex((l, i) => i >= from && l.trim() === text.trim()));
  const add = (text: string, line: () => number) => {
    for (const c of pnpmCommands(text)) found.push({ doc, line: line(), ...c });
  };
  const spansOf = (tokens: Token[] | undefined): string[] => {
    const spans: string[] = [];
    marked.walkTokens(tokens ?? [], (t) => {
      if (t.type === "codespan") spans.push((t as Tokens.Codespan).text);
    });
    return spans;
  };
  marked.walkTokens(marked.lexer(markdown), (token) => {
    if (token.type === "code") {
      for (const line of (token as Tokens.Code).text.split("\n")) {
        add(line, () => lineExactly(line));
        for (const span of line.match(/`[^`]+`/g) ?? []) add(span.slice(1, -1), () => lineOf(span));
      }
    } else if (token.type === "codespan") {
      const text = (token as Tokens.Codespan).text;
      add(text, () => lineOf(`\`${text}\``));
    } else if (token.type === "table") {
      for (const row of (token as Tokens.Table).rows) {
        const command = spansOf(row[0]?.tokens).find((s) => /^pnpm ops:\S+/.test(s));
        if (!command) continue;
        for (const flags of row
          .slice(1)
          .flatMap((cell) => spansOf(cell.tokens))
          .filter((s) => s.startsWith("-"))) {
          const lone = !/\s/.test(flags.trim());
          // A cell giving an option the row's command already has (`--app router` beside `--app client`)
          // is another value for it, not a second one: it replaces the command's.
          const option = /^(--[a-z-]+)\s/.exec(flags)?.[1];
          const base =
            option && new RegExp(`\\s${option}\\s\\S+`).test(command) ? command.replace(new RegExp(`\\s${option}\\s\\S+`), "") : command;
          for (const c of pnpmCommands(`${base} ${flags}`))
            found.push({
              doc,
              line: lineOf(command, flags),
              ...c,
              text: `${c.text}  (table row of ${command})`,
              ...(lone ? { flagWithoutValue: true } : {}),
            });
        }
      }
    }
  });
  return found;
}

const rootScripts = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

/** What the command's own CLI says to `<root script> --help <args>`: exit code and output. */
async function askCli(script: string, args: string[]): Promise<{ code: number; out: string }> {
  const [program, ...scriptArgs] = parseShell(rootScripts[script]!) as string[];
  if (program !== "node") throw new Error(`${script} runs ${program}, not node`);
  const { OPS_TARGET: _t, OPS_ENV: _e, ...env } = process.env;
  try {
    const { stdout, stderr } = await run(process.execPath, [...scriptArgs, "--help", ...args], {
      cwd: repoRoot,
      env: { ...env, NO_COLOR: "1" },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

interface DryTask {
  taskId: string;
  task: string;
  command: string;
  environmentVariables: { passthrough: string[] | null };
}

/** turbo's own plan of `turbo run <task>` with `env` set (as `NAME=1`), from its dry run. */
async function turboPlan(task: string, envNames: string[]): Promise<DryTask[]> {
  const turbo = join(dirname(createRequire(join(repoRoot, "package.json")).resolve("turbo/package.json")), "bin", "turbo");
  const { stdout } = await run(process.execPath, [turbo, "run", task, "--dry=json"], {
    cwd: repoRoot,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1", ...Object.fromEntries(envNames.map((n) => [n, "1"])) },
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(stdout) as { tasks: DryTask[] }).tasks;
}

/** The scripts of the workspace packages `pnpm --filter <filter>` selects (asked of pnpm). */
async function filteredScripts(filter: string): Promise<Record<string, string>[]> {
  const { stdout } = await run("pnpm", ["--filter", filter, "ls", "--json", "--depth", "-1"], { cwd: repoRoot });
  return (JSON.parse(stdout) as { path: string }[]).map(
    (p) => (JSON.parse(readFileSync(join(p.path, "package.json"), "utf8")) as { scripts?: Record<string, string> }).scripts ?? {},
  );
}

const envSource = readFileSync(join(repoRoot, "packages/ops/src/env.ts"), "utf8");

/** Why the documented command does not work as written, or undefined when it does. Memoized per distinct question. */
function checker() {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, fn: () => Promise<T>) => {
    if (!memo.has(key)) memo.set(key, fn());
    return memo.get(key) as Promise<T>;
  };
  return async (c: DocCommand): Promise<string | undefined> => {
    const unread = c.env.filter((n) => !envSource.includes(n));
    if (unread.length > 0) return `src/env.ts reads no ${unread.join(", ")}`;
    const [first, ...rest] = c.args;
    if (!first) return "no pnpm command";
    if (first === "--filter" || first === "-F") {
      const [filter, maybeRun, ...after] = rest;
      const script = maybeRun === "run" ? after[0] : maybeRun;
      const packages = await once(`filter ${filter}`, () => filteredScripts(filter!));
      if (packages.length === 0) return `pnpm --filter ${filter} selects no workspace package`;
      const without = packages.filter((s) => !(script! in s)).length;
      return without > 0 ? `${without} package(s) of --filter ${filter} have no "${script}" script` : undefined;
    }
    if (PNPM_OWN_COMMANDS.has(first)) return undefined;
    const [script, ...args] = first === "run" ? rest : c.args;
    if (!script || !(script in rootScripts)) return `the root package.json has no "${script}" script`;
    if (script === "turbo") {
      if (args[0] !== "run") return args.length === 0 ? undefined : `only \`pnpm turbo run <task>\` is checked, got ${args.join(" ")}`;
      const task = args[1]!;
      const plan = await once(`turbo ${task} ${c.env.join(",")}`, () =>
        turboPlan(task, c.env).catch((err: { stderr?: string }) => `turbo refuses it: ${err.stderr?.trim()}`),
      );
      if (typeof plan === "string") return plan;
      const planned = plan.filter((t) => t.task === task && t.command !== "<NONEXISTENT>");
      if (planned.length === 0) return `turbo plans no "${task}" task`;
      const steps = plan.filter((t) => t.command.includes("prebuild/run.mjs"));
      const stripped = steps.flatMap((t) =>
        c.env
          .filter((n) => !(t.environmentVariables.passthrough ?? []).some((p) => p.startsWith(`${n}=`)))
          .map((n) => `${n} (${t.taskId})`),
      );
      return stripped.length > 0 ? `turbo does not pass ${stripped.join(", ")}` : undefined;
    }
    if (!script.startsWith("ops:")) return args.length === 0 ? undefined : `only ops:* scripts take arguments here, got ${args.join(" ")}`;
    const answer = await once(`${script} ${JSON.stringify(args)}`, () => askCli(script, args));
    if (answer.code === 0 && answer.out.includes("Options every command takes:")) return undefined;
    if (c.flagWithoutValue && answer.code === 2 && /argument missing/.test(answer.out)) return undefined;
    return `the CLI refuses it (exit ${answer.code}): ${answer.out.trim()}`;
  };
}

// The steps are built once here, as turbo's @repo/ops#build does before any step, so the
// commands below only answer (none of them builds).
execFileSync(process.execPath, [join(repoRoot, "packages/ops/prebuild/build.mjs")], { cwd: repoRoot, stdio: "ignore" });
const check = checker();
const commands = DOCS.flatMap((doc) => docCommands(doc, readFileSync(join(repoRoot, doc), "utf8")));
const verdicts = await Promise.all(commands.map(check));

describe("the commands the runbook and READMEs name", () => {
  it("are found in code blocks, code spans and table rows of each document", () => {
    const texts = (doc: string) => commands.filter((c) => c.doc === doc).map((c) => c.text);
    expect(texts("docs/production-operations.md")).toEqual(
      expect.arrayContaining([
        "pnpm ops:rollback --db --restore-point br-...",
        "pnpm ops:logs --app backend -n 500 --since 30m --grep level=ERROR",
        "pnpm turbo run production-deploy",
        "pnpm ops:rollback --app backend --to v41",
      ]),
    );
    expect(texts("README.md")).toEqual(
      expect.arrayContaining([
        "pnpm --filter @repo/ops test:e2e",
        "pnpm ops:logs --app client --follow  (table row of pnpm ops:logs --app client)",
      ]),
    );
    expect(texts("infra/fly/README.md")).toContain("pnpm ops:secrets rotate AUTHENTIK_SECRET_KEY");
    expect(commands.find((c) => c.text === "pnpm turbo run production-deploy" && c.env.includes("OPS_LOCK_WAIT"))).toBeDefined();
  });

  it.each(commands.map((c, i) => [`${c.doc}:${c.line} ${c.text}`, verdicts[i]] as const))("%s", (_, verdict) => {
    expect(verdict).toBeUndefined();
  });
});

describe("the check itself", () => {
  const sample = [
    "```sh",
    "pnpm ops:rollback --bogus      # not a flag",
    "OPS_NOPE=1 pnpm ops:status",
    "```",
    "Then `pnpm ops:lock brake` and `pnpm turbo run no-such-task` and `pnpm --filter @repo/ops nope`.",
    "",
    "| command | what |",
    "|---|---|",
    "| `pnpm ops:history` | `--wide`, `--limit`, `--tall` |",
  ].join("\n");
  const found = docCommands("sample.md", sample);

  it("refuses a flag, a sub-command, a task, a script or a variable that does not exist", async () => {
    const verdicts = Object.fromEntries(await Promise.all(found.map(async (c) => [c.text, await check(c)] as const)));
    expect(Object.keys(verdicts)).toEqual([
      "pnpm ops:rollback --bogus",
      "pnpm ops:status",
      "pnpm ops:lock brake",
      "pnpm turbo run no-such-task",
      "pnpm --filter @repo/ops nope",
      "pnpm ops:history --wide  (table row of pnpm ops:history)",
      "pnpm ops:history --limit  (table row of pnpm ops:history)",
      "pnpm ops:history --tall  (table row of pnpm ops:history)",
      "pnpm ops:history",
    ]);
    expect(verdicts["pnpm ops:rollback --bogus"]).toMatch(/exit 2\): ✖ rollback: unknown option --bogus/);
    expect(verdicts["pnpm ops:status"]).toBe("src/env.ts reads no OPS_NOPE");
    expect(verdicts["pnpm ops:lock brake"]).toMatch(/unknown lock command "brake"; did you mean break\?/);
    expect(verdicts["pnpm turbo run no-such-task"]).toMatch(/^turbo refuses it: .*Missing tasks in project/s);
    expect(verdicts["pnpm --filter @repo/ops nope"]).toBe('1 package(s) of --filter @repo/ops have no "nope" script');
    expect(verdicts["pnpm ops:history --wide  (table row of pnpm ops:history)"]).toBeUndefined();
    expect(verdicts["pnpm ops:history --limit  (table row of pnpm ops:history)"]).toBeUndefined();
    expect(verdicts["pnpm ops:history --tall  (table row of pnpm ops:history)"]).toMatch(/unknown option --tall/);
  });
});
