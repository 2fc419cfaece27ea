/**
 * A Dockerfile as the preflight checks read it: build stages with their instructions, and what a
 * stage inherits through `FROM <earlier stage>` (ENV, USER, WORKDIR). Shared by the Dockerfile
 * lints, the build-context walker and the port checks.
 *
 * Parsing: `dockerfile-ast` (the parser of the Docker language server; handles continuation lines,
 * comments inside them, the escape directive, stages and flags). One workaround: its JSON-form
 * strings drop inner spaces (`["a b"]` → `ab`), so exec/JSON forms are re-read here with
 * `JSON.parse` of the instruction's arguments, as Docker itself does (falling back to shell form).
 */
import { posix } from "node:path";
import { Arg, Env, type Instruction, ModifiableInstruction } from "dockerfile-ast";
import type { CheckResult } from "./types.ts";

/** One build stage: `FROM image [AS name]` and the instructions up to the next FROM. */
export interface Stage {
  index: number;
  /** Lowercased stage name, if any (Docker compares stage names case-insensitively). */
  name: string | undefined;
  /** The FROM argument: an image, or the name of an earlier stage. */
  base: string;
  line: number;
  /** Index of the earlier stage this one is built FROM, if any. */
  parent: number | undefined;
  instructions: Instruction[];
}

/** Where findings go: the Dockerfile's name in `where`, the build context, and the results so far. */
export interface Findings {
  where: string;
  contextDir: string;
  results: CheckResult[];
}

export const lineOf = (i: Instruction) => i.getRange().start.line + 1;
export const at = (ctx: Findings, line: number) => `${ctx.where}:${line}`;
export const kw = (i: Instruction) => i.getKeyword().toUpperCase();

export function splitStages(instructions: Instruction[]): { stages: Stage[]; globalArgs: Instruction[] } {
  const stages: Stage[] = [];
  const globalArgs: Instruction[] = [];
  for (const instr of instructions) {
    if (kw(instr) === "FROM") {
      const args = (instr as ModifiableInstruction).getArguments().map((a) => a.getValue());
      const base = args[0] ?? "";
      const name = args.length >= 3 && args[1]!.toLowerCase() === "as" ? args[2]!.toLowerCase() : undefined;
      const parentName = base.toLowerCase();
      const parent = stages.find((s) => s.name === parentName)?.index;
      stages.push({ index: stages.length, name, base, line: lineOf(instr), parent, instructions: [] });
    } else if (stages.length === 0) globalArgs.push(instr);
    else stages.at(-1)!.instructions.push(instr);
  }
  return { stages, globalArgs };
}

/** The stage and the earlier stages it is built FROM, root first: what it inherits (ENV, USER, WORKDIR). */
export function chain(stages: Stage[], stage: Stage): Stage[] {
  const out: Stage[] = [];
  const seen = new Set<number>();
  for (let s: Stage | undefined = stage; s && !seen.has(s.index); s = s.parent === undefined ? undefined : stages[s.parent]) {
    seen.add(s.index);
    out.unshift(s);
  }
  return out;
}

/** Docker's JSON (exec) form: the arguments parse as a JSON array of strings; anything else is shell form. */
export function jsonForm(content: string | null): string[] | undefined {
  const t = content?.trim();
  if (!t?.startsWith("[")) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Flags (`--from=x`) of COPY/ADD as a map of lowercased name → value. */
export function flagsOf(instr: Instruction): Map<string, string | null> {
  const m = new Map<string, string | null>();
  if (instr instanceof ModifiableInstruction) for (const f of instr.getFlags()) m.set(f.getName().toLowerCase(), f.getValue());
  return m;
}

/** COPY/ADD sources and destination, from the JSON or the shell form; heredoc sources (`<<EOF`) are left out. */
export function copyOperands(instr: Instruction): { sources: string[]; dest: string | undefined } {
  const content = (instr.getArgumentsContent() ?? "").replace(/^(\s*--\S+)+\s*/, "");
  const words = jsonForm(content) ?? (instr as ModifiableInstruction).getArguments().map((a) => a.getValue());
  if (words.length < 2) return { sources: [], dest: words[0] };
  return { sources: words.slice(0, -1).filter((w) => !w.startsWith("<<")), dest: words.at(-1) };
}

/** ENV/ARG name=value pairs with their lines, in order. */
export function properties(instr: Instruction): { name: string; value: string | null; line: number }[] {
  if (instr instanceof Env)
    return instr.getProperties().map((p) => ({ name: p.getName(), value: p.getValue(), line: p.getRange().start.line + 1 }));
  if (instr instanceof Arg) {
    const p = instr.getProperty();
    return p ? [{ name: p.getName(), value: p.getValue(), line: p.getRange().start.line + 1 }] : [];
  }
  return [];
}

/** The ENV the final image (or a stage) ends up with, following FROM <stage> inheritance. */
export function stageEnv(stages: Stage[], stage: Stage): Map<string, { value: string; line: number }> {
  const env = new Map<string, { value: string; line: number }>();
  for (const s of chain(stages, stage)) {
    for (const i of s.instructions)
      if (kw(i) === "ENV") for (const p of properties(i)) env.set(p.name, { value: p.value ?? "", line: p.line });
  }
  return env;
}

export function effectiveUser(stages: Stage[], stage: Stage): { value: string; line: number } | undefined {
  let user: { value: string; line: number } | undefined;
  for (const s of chain(stages, stage)) {
    for (const i of s.instructions) if (kw(i) === "USER") user = { value: (i.getArgumentsContent() ?? "").trim(), line: lineOf(i) };
  }
  return user;
}

/** Resolves a COPY destination against the WORKDIRs before `line` (relative destinations are relative to WORKDIR). */
export function resolveDest(stages: Stage[], stage: Stage, line: number, dest: string): string {
  let wd = "/";
  for (const s of chain(stages, stage)) {
    for (const i of s.instructions) {
      if (lineOf(i) >= line) break;
      if (kw(i) === "WORKDIR") wd = posix.resolve(wd, (i.getArgumentsContent() ?? "").trim());
    }
  }
  return posix.resolve(wd, dest).replace(/\/+$/, "") || "/";
}

export const normalizeImagePath = (p: string) => posix.normalize(p).replace(/\/+$/, "") || "/";
export const hasVariable = (s: string) => s.includes("$");
export const parsePort = (s: string | undefined) =>
  s !== undefined && /^\d{1,5}$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined;

/** A source ADD downloads instead of reading from the context. */
export const REMOTE = /^(https?|git|ssh):\/\/|^git@|\.git(#.*)?$/i;
