/**
 * Static preflight checks of each built app's Dockerfile (no Docker engine needed): stages, the user
 * the final image runs as, remote ADDs, secrets baked into ENV/ARG, `COPY --from` targets, local
 * COPY sources against the build context and its .dockerignore, what the app's stack needs
 * (`node-remix`: protos at GRPC_PROTO_ROOT and the Remix build; `go-static`: a CGO-free Go binary),
 * and the ports and bind address of its port contract (port-contract.ts) against its fly.toml.
 *
 * Parsing: `dockerfile-ast` (the parser of the Docker language server; handles continuation lines,
 * comments inside them, the escape directive, stages and flags). One workaround: its JSON-form
 * strings drop inner spaces (`["a b"]` → `ab`), so exec/JSON forms are re-read here with
 * `JSON.parse` of the instruction's arguments, as Docker itself does (falling back to shell form).
 * .dockerignore matching: `@balena/dockerignore`, a port of Docker's own matcher (patterns are
 * anchored at the context root, a pattern matching a folder excludes everything under it, `!`
 * re-includes). Which .dockerignore applies: `<Dockerfile>.dockerignore` next to the Dockerfile if
 * it exists (BuildKit's rule), else `<context>/.dockerignore`.
 *
 * Check ids: dockerfile.read, dockerfile.multi-stage, dockerfile.stage-name, dockerfile.user,
 * dockerfile.add-remote, dockerfile.secret-env, dockerfile.copy-from, dockerfile.copy-source,
 * dockerfile.dockerignore, dockerfile.exec-form, dockerfile.fly-toml, dockerfile.<app>.proto-root,
 * dockerfile.<app>.proto, dockerfile.<app>.build (node-remix), dockerfile.<app>.static (go-static),
 * dockerfile.<app>.port, dockerfile.<app>.host, and the `pass` summary dockerfile.<app>.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, isAbsolute, join, posix, relative, resolve } from "node:path";
import ignore, { type Ignore } from "@balena/dockerignore";
import { Arg, DockerfileParser, Env, type Instruction, ModifiableInstruction } from "dockerfile-ast";
import { parse as parseToml } from "smol-toml";
import type { BuiltPortContract } from "./port-contract.ts";
import type { CheckResult } from "./types.ts";

/** Options of {@link checkDockerfile}. */
export interface DockerfileCheckOptions {
  /** The build context: local COPY sources resolve here. The repo root for both apps (flyctl builds from the working directory). */
  contextDir: string;
  /** The app's port contract (from ops.config.ts): its name, exposure, port and bind variables, and stack-specific checks. */
  contract: BuiltPortContract;
  /** The app's fly.toml: its `[env]` wins over the image's ENV, and its ports must match. Unset: ports are checked against the Dockerfile alone. */
  flyTomlPath?: string;
  /** The .dockerignore to apply. @default `<Dockerfile>.dockerignore` if it exists, else `<contextDir>/.dockerignore` */
  dockerignorePath?: string;
  /** How the Dockerfile is named in `where`. @default its path relative to `contextDir` */
  displayPath?: string;
}

/** One build stage: `FROM image [AS name]` and the instructions up to the next FROM. */
interface Stage {
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

interface Ctx {
  where: string;
  contextDir: string;
  ignore: Ignore;
  /** Path of the .dockerignore in use, relative to the context when inside it; undefined if none exists. */
  ignoreFile: string | undefined;
  /** Whether the .dockerignore has `!` rules (then an excluded folder can still hold included files). */
  hasExceptions: boolean;
  /** Folders sent whole by local COPY/ADD (`.` is the whole context), for the .dockerignore check. */
  folderCopies: { k: string; src: string; folder: string; line: number }[];
  results: CheckResult[];
}

const CLIENT_PROTO_ROOT = "/app/proto";

const lineOf = (i: Instruction) => i.getRange().start.line + 1;
const at = (ctx: Ctx, line: number) => `${ctx.where}:${line}`;
const kw = (i: Instruction) => i.getKeyword().toUpperCase();

/**
 * Checks one Dockerfile on disk. Never throws: an unreadable file becomes one `fail`.
 * Returns every finding (`warn`/`fail` with `where` = `path:line` and a `fix`), plus a `pass`
 * summary (`dockerfile.<app>`) when nothing fails.
 */
export function checkDockerfile(path: string, opts: DockerfileCheckOptions): CheckResult[] {
  const contextDir = resolve(opts.contextDir);
  const abs = resolve(path);
  const rel = relative(contextDir, abs);
  const where = opts.displayPath ?? (rel.startsWith("..") || isAbsolute(rel) ? path : rel.split("\\").join("/"));
  let text: string;
  try {
    text = readFileSync(abs, "utf8");
  } catch (err) {
    return [
      {
        id: "dockerfile.read",
        status: "fail",
        message: `cannot read ${where}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        where,
        fix: `create ${where} or point the check at the right file`,
      },
    ];
  }
  const dockerignorePath =
    opts.dockerignorePath ?? (existsSync(`${abs}.dockerignore`) ? `${abs}.dockerignore` : join(contextDir, ".dockerignore"));
  return checkDockerfileText(text, where, { ...opts, contextDir, dockerignorePath });
}

/** {@link checkDockerfile} on text already read; `where` names the file in every result. The context is still read from disk. */
export function checkDockerfileText(text: string, where: string, opts: DockerfileCheckOptions): CheckResult[] {
  const contextDir = resolve(opts.contextDir);
  const ignorePath = opts.dockerignorePath ?? join(contextDir, ".dockerignore");
  const ignoreText = existsSync(ignorePath) ? readFileSync(ignorePath, "utf8") : undefined;
  const patterns = (ignoreText ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const ignoreRel = relative(contextDir, resolve(ignorePath));
  const ctx: Ctx = {
    where,
    contextDir,
    ignore: ignore().add(patterns),
    ignoreFile: ignoreText === undefined ? undefined : ignoreRel.startsWith("..") ? ignorePath : ignoreRel,
    hasExceptions: patterns.some((p) => p.startsWith("!")),
    folderCopies: [],
    results: [],
  };

  if (text.trim() === "") {
    return [
      { id: "dockerfile.read", status: "fail", message: `${where} is empty`, where, fix: `write the multi-stage build into ${where}` },
    ];
  }
  const dockerfile = DockerfileParser.parse(text);
  const { stages, globalArgs } = splitStages(dockerfile.getInstructions());

  checkStages(ctx, stages);
  checkSecretNames(ctx, [...globalArgs, ...stages.flatMap((s) => s.instructions)]);
  for (const stage of stages) {
    for (const instr of stage.instructions) {
      const k = kw(instr);
      if (k === "ADD") checkAddRemote(ctx, instr);
      if (k === "COPY" || k === "ADD") {
        checkCopyFrom(ctx, instr, stages, stage);
        checkCopySources(ctx, instr);
      }
    }
  }
  checkFolderCopies(ctx);
  const final = stages.at(-1);
  if (final) {
    checkFinalUser(ctx, stages, final);
    checkExecForm(ctx, stages, final);
    const fly = readFlyToml(ctx, opts.flyTomlPath);
    const c = opts.contract;
    if (c.stack === "node-remix") checkNodeRemix(ctx, stages, final, fly, c.app);
    if (c.stack === "go-static") checkGoStatic(ctx, stages, c.app);
    if (c.exposure === "public") checkPublicPorts(ctx, stages, final, fly, c);
    else checkInternalPorts(ctx, stages, final, fly, c);
  }

  const results = ctx.results;
  if (!results.some((r) => r.status === "fail")) {
    const user = final ? effectiveUser(stages, final)?.value : undefined;
    results.unshift({
      id: `dockerfile.${opts.contract.app}`,
      status: "pass",
      message: `${where}: ${stages.length} stages, final stage from ${final?.base ?? "?"} runs as ${user ?? "?"}`,
      where,
    });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers

function splitStages(instructions: Instruction[]): { stages: Stage[]; globalArgs: Instruction[] } {
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
function chain(stages: Stage[], stage: Stage): Stage[] {
  const out: Stage[] = [];
  const seen = new Set<number>();
  for (let s: Stage | undefined = stage; s && !seen.has(s.index); s = s.parent === undefined ? undefined : stages[s.parent]) {
    seen.add(s.index);
    out.unshift(s);
  }
  return out;
}

/** Docker's JSON (exec) form: the arguments parse as a JSON array of strings; anything else is shell form. */
function jsonForm(content: string | null): string[] | undefined {
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
function flagsOf(instr: Instruction): Map<string, string | null> {
  const m = new Map<string, string | null>();
  if (instr instanceof ModifiableInstruction) for (const f of instr.getFlags()) m.set(f.getName().toLowerCase(), f.getValue());
  return m;
}

/** COPY/ADD sources and destination, from the JSON or the shell form; heredoc sources (`<<EOF`) are left out. */
function copyOperands(instr: Instruction): { sources: string[]; dest: string | undefined } {
  const content = (instr.getArgumentsContent() ?? "").replace(/^(\s*--\S+)+\s*/, "");
  const words = jsonForm(content) ?? (instr as ModifiableInstruction).getArguments().map((a) => a.getValue());
  if (words.length < 2) return { sources: [], dest: words[0] };
  return { sources: words.slice(0, -1).filter((w) => !w.startsWith("<<")), dest: words.at(-1) };
}

/** ENV/ARG name=value pairs with their lines, in order. */
function properties(instr: Instruction): { name: string; value: string | null; line: number }[] {
  if (instr instanceof Env)
    return instr.getProperties().map((p) => ({ name: p.getName(), value: p.getValue(), line: p.getRange().start.line + 1 }));
  if (instr instanceof Arg) {
    const p = instr.getProperty();
    return p ? [{ name: p.getName(), value: p.getValue(), line: p.getRange().start.line + 1 }] : [];
  }
  return [];
}

/** The ENV the final image (or a stage) ends up with, following FROM <stage> inheritance. */
function stageEnv(stages: Stage[], stage: Stage): Map<string, { value: string; line: number }> {
  const env = new Map<string, { value: string; line: number }>();
  for (const s of chain(stages, stage)) {
    for (const i of s.instructions)
      if (kw(i) === "ENV") for (const p of properties(i)) env.set(p.name, { value: p.value ?? "", line: p.line });
  }
  return env;
}

function effectiveUser(stages: Stage[], stage: Stage): { value: string; line: number } | undefined {
  let user: { value: string; line: number } | undefined;
  for (const s of chain(stages, stage)) {
    for (const i of s.instructions) if (kw(i) === "USER") user = { value: (i.getArgumentsContent() ?? "").trim(), line: lineOf(i) };
  }
  return user;
}

/** Resolves a COPY destination against the WORKDIRs before `line` (relative destinations are relative to WORKDIR). */
function resolveDest(stages: Stage[], stage: Stage, line: number, dest: string): string {
  let wd = "/";
  for (const s of chain(stages, stage)) {
    for (const i of s.instructions) {
      if (lineOf(i) >= line) break;
      if (kw(i) === "WORKDIR") wd = posix.resolve(wd, (i.getArgumentsContent() ?? "").trim());
    }
  }
  return posix.resolve(wd, dest).replace(/\/+$/, "") || "/";
}

const normalizeImagePath = (p: string) => posix.normalize(p).replace(/\/+$/, "") || "/";
const hasVariable = (s: string) => s.includes("$");
const parsePort = (s: string | undefined) =>
  s !== undefined && /^\d{1,5}$/.test(s.trim()) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined;

// ---------------------------------------------------------------------------------------------
// Generic checks

function checkStages(ctx: Ctx, stages: Stage[]): void {
  if (stages.length < 2) {
    ctx.results.push({
      id: "dockerfile.multi-stage",
      status: "fail",
      message:
        stages.length === 0
          ? `${ctx.where} has no FROM instruction`
          : `${ctx.where} has one stage: the toolchain, sources and dev dependencies all ship in the image`,
      where: at(ctx, stages[0]?.line ?? 1),
      fix: "build in a first stage (FROM <toolchain> AS build) and copy only the artifacts into a slim final stage (COPY --from=build ...)",
    });
  }
  const seen = new Map<string, number>();
  for (const s of stages) {
    if (s.name === undefined) continue;
    const first = seen.get(s.name);
    if (first !== undefined) {
      ctx.results.push({
        id: "dockerfile.stage-name",
        status: "fail",
        message: `stage name "${s.name}" is used twice (lines ${first} and ${s.line}); Docker refuses duplicate stage names`,
        where: at(ctx, s.line),
        fix: `rename the stage at line ${s.line}`,
      });
    } else seen.set(s.name, s.line);
  }
}

const SECRET_WORDS = new Set(["KEY", "KEYS", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "PASSWD", "PASS", "CREDENTIALS"]);
const SECRET_SUFFIXES = ["TOKEN", "TOKENS", "SECRET", "SECRETS", "PASSWORD"];

/**
 * Whether an ENV/ARG name looks like it carries a secret: a `_`-separated word KEY (APIKEY...),
 * PASS/PASSWD/CREDENTIALS, a word ending in TOKEN/SECRET/PASSWORD (AUTHTOKEN), or DATABASE_URL
 * anywhere (MIGRATION_DATABASE_URL). `PUBLIC_KEY`-style false positives are accepted: rename or
 * move such a value to run time.
 */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (upper.includes("DATABASE_URL")) return true;
  return upper.split(/[_\-.]/).some((w) => SECRET_WORDS.has(w) || SECRET_SUFFIXES.some((s) => w.endsWith(s)));
}

/** No ENV/ARG named like a secret: both are stored in the image config/history in clear text. The value is never printed. */
function checkSecretNames(ctx: Ctx, instructions: Instruction[]): void {
  for (const instr of instructions) {
    const k = kw(instr);
    if (k !== "ENV" && k !== "ARG") continue;
    for (const p of properties(instr)) {
      if (!isSecretName(p.name)) continue;
      ctx.results.push({
        id: "dockerfile.secret-env",
        status: "fail",
        message: `${k} ${p.name} looks like a secret; ${k === "ENV" ? "ENV values are stored in the image config" : "ARG values are kept in the image history"} where anyone who can pull the image reads them`,
        where: at(ctx, p.line),
        fix: `remove ${k} ${p.name}: set it at run time with \`fly secrets\` (the ops secrets step), or for a build-time secret use RUN --mount=type=secret,id=${p.name.toLowerCase()}`,
      });
    }
  }
}

const REMOTE = /^(https?|git|ssh):\/\/|^git@|\.git(#.*)?$/i;

function checkAddRemote(ctx: Ctx, instr: Instruction): void {
  for (const src of copyOperands(instr).sources) {
    if (!REMOTE.test(src)) continue;
    ctx.results.push({
      id: "dockerfile.add-remote",
      status: "fail",
      message: `ADD ${src} downloads at build time: the content can change under the same Dockerfile and is not verified`,
      where: at(ctx, lineOf(instr)),
      fix: "vendor the file into the repository and COPY it, or download it in a build stage with a pinned version and a checksum check",
    });
  }
}

function checkCopyFrom(ctx: Ctx, instr: Instruction, stages: Stage[], stage: Stage): void {
  const from = flagsOf(instr).get("from");
  if (from === undefined) return;
  const line = lineOf(instr);
  const fix = (extra: string) =>
    `${extra}${
      stage.index > 0
        ? `; earlier stages: ${stages
            .slice(0, stage.index)
            .map((s) => s.name ?? String(s.index))
            .join(", ")}`
        : ""
    }`;
  if (from === null || from === "") {
    ctx.results.push({
      id: "dockerfile.copy-from",
      status: "fail",
      message: `${kw(instr)} --from has no value`,
      where: at(ctx, line),
      fix: fix("write --from=<stage>"),
    });
    return;
  }
  if (hasVariable(from)) return;
  const name = from.toLowerCase();
  if (/^\d+$/.test(name)) {
    const n = Number(name);
    if (n >= stage.index) {
      ctx.results.push({
        id: "dockerfile.copy-from",
        status: "fail",
        message: `COPY --from=${from} refers to stage ${n}, which is ${n === stage.index ? "this stage" : "a later stage"}; only earlier stages can be copied from`,
        where: at(ctx, line),
        fix: fix("copy from an earlier stage, preferably by name"),
      });
    }
    return;
  }
  const target = stages.find((s) => s.name === name);
  if (target && target.index < stage.index) return;
  if (target) {
    ctx.results.push({
      id: "dockerfile.copy-from",
      status: "fail",
      message: `COPY --from=${from} names ${target.index === stage.index ? "this stage" : `a later stage (line ${target.line})`}; only earlier stages can be copied from`,
      where: at(ctx, line),
      fix: fix(`move stage "${name}" before line ${line}`),
    });
    return;
  }
  // Not a stage: Docker would pull an image of that name. A full reference (registry/repo:tag) is deliberate; a bare word is a typo.
  if (/[/:@]/.test(from)) return;
  const close = stages.slice(0, stage.index).find((s) => s.name !== undefined && editDistance(s.name, name) <= 2)?.name;
  ctx.results.push({
    id: "dockerfile.copy-from",
    status: "fail",
    message: `COPY --from=${from} names no earlier stage${close ? ` (did you mean "${close}"?)` : ""}; Docker would try to pull an image called "${from}"`,
    where: at(ctx, line),
    fix: fix(close ? `write --from=${close}` : "name an earlier stage (FROM ... AS <name>), or give a full image reference with a tag"),
  });
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length]![b.length]!;
}

const WALK_LIMIT = 50_000;
const isWildcard = (s: string) => /[*?[]/.test(s);

/** Go's filepath.Match for one path segment, as a RegExp (`*`, `?`, `[...]` classes with `^` negation, `\\` escapes). */
function segmentRegex(segment: string): RegExp {
  let out = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    const end = c === "[" ? segment.indexOf("]", i + 2) : -1;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (end > 0) {
      out += `[${segment.slice(i + 1, end)}]`;
      i = end;
    } else if (c === "\\" && i + 1 < segment.length) out += escapeRegex(segment[++i]!);
    else out += escapeRegex(c);
  }
  return new RegExp(`^${out}$`);
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** Context-relative paths matching a COPY source with wildcards (per segment, like Docker). */
function expandWildcards(contextDir: string, rel: string): string[] {
  let current = [""];
  for (const segment of rel.split("/")) {
    const next: string[] = [];
    for (const base of current) {
      if (!isWildcard(segment)) {
        const p = base === "" ? segment : `${base}/${segment}`;
        if (existsSync(join(contextDir, p))) next.push(p);
        continue;
      }
      const re = segmentRegex(segment);
      let names: string[] = [];
      try {
        names = readdirSync(join(contextDir, base));
      } catch {
        names = [];
      }
      for (const n of names) if (re.test(n)) next.push(base === "" ? n : `${base}/${n}`);
    }
    current = next;
  }
  return current;
}

/** Whether a folder sends at least one file (or an empty folder) to the build after .dockerignore. */
function folderSendsSomething(ctx: Ctx, rel: string): boolean {
  let budget = WALK_LIMIT;
  const walk = (dir: string): boolean => {
    let entries;
    try {
      entries = readdirSync(join(ctx.contextDir, dir), { withFileTypes: true });
    } catch {
      return false;
    }
    if (entries.length === 0) return true;
    for (const e of entries) {
      if (--budget <= 0) return true; // too big to prove empty: assume something is sent
      const p = dir === "" || dir === "." ? e.name : `${dir}/${e.name}`;
      const ignored = ctx.ignore.ignores(p);
      if (e.isDirectory()) {
        if (ignored && !ctx.hasExceptions) continue;
        if (walk(p)) return true;
      } else if (!ignored) return true;
    }
    return false;
  };
  return walk(rel);
}

/** `.env` files that must never reach an image layer; `sub/` stands for any nested folder. */
const CONTEXT_SECRET_PROBES = [".env", ".env.production", ".env.local", "sub/.env", "sub/dir/.env.production"];

function checkCopySources(ctx: Ctx, instr: Instruction): void {
  const flags = flagsOf(instr);
  if (flags.has("from")) return;
  const k = kw(instr);
  const line = lineOf(instr);
  const { sources } = copyOperands(instr);
  for (const src of sources) {
    if (k === "ADD" && REMOTE.test(src)) continue;
    if (hasVariable(src)) {
      ctx.results.push({
        id: "dockerfile.copy-source",
        status: "warn",
        message: `${k} source ${src} uses a variable; it cannot be checked against the build context`,
        where: at(ctx, line),
        fix: "write the source path literally",
      });
      continue;
    }
    const rel = posix.normalize(src.replace(/^\/+/, "") || ".").replace(/\/+$/, "") || ".";
    if (rel === ".." || rel.startsWith("../")) {
      ctx.results.push({
        id: "dockerfile.copy-source",
        status: "fail",
        message: `${k} source ${src} is outside the build context (${ctx.contextDir}); Docker refuses it`,
        where: at(ctx, line),
        fix: "the build context is the repository root: write the source relative to it (e.g. apps/<app>/...)",
      });
      continue;
    }
    const matches = isWildcard(rel) ? expandWildcards(ctx.contextDir, rel) : existsSync(join(ctx.contextDir, rel)) ? [rel] : [];
    if (matches.length === 0) {
      ctx.results.push({
        id: "dockerfile.copy-source",
        status: "fail",
        message: `${k} source ${src} ${isWildcard(rel) ? "matches nothing" : "does not exist"} in the build context (${ctx.contextDir}); the build stops there`,
        where: at(ctx, line),
        fix: `the build context is the repository root: write ${src} relative to it, or create it (a build output is produced in a build stage and copied with --from)`,
      });
      continue;
    }
    const sent = matches.filter(
      (m) => m === "." || (!ctx.ignore.ignores(m) && (!isDir(join(ctx.contextDir, m)) || folderSendsSomething(ctx, m))),
    );
    if (sent.length === 0) {
      ctx.results.push({
        id: "dockerfile.copy-source",
        status: "fail",
        message: `${k} source ${src} is excluded by ${ctx.ignoreFile ?? ".dockerignore"}, so it never reaches the build`,
        where: at(ctx, line),
        fix: `remove the pattern that matches ${rel} from ${ctx.ignoreFile ?? ".dockerignore"} (or add !${rel}), or copy it from a build stage`,
      });
      continue;
    }
    for (const m of sent) if (m === "." || isDir(join(ctx.contextDir, m))) ctx.folderCopies.push({ k, src, folder: m, line });
  }
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/**
 * A folder copy sends everything the .dockerignore lets through. `.env*` files anywhere under it
 * must be excluded (fail: they would land in an image layer); node_modules and .git should be
 * (warn). Probed with representative paths, so the verdict does not depend on what this checkout
 * happens to hold. One result per problem, at the first COPY line concerned.
 */
function checkFolderCopies(ctx: Ctx): void {
  const ignoreName = ctx.ignoreFile ?? ".dockerignore at the context root";
  const under = (folder: string, name: string) => (folder === "." ? name : `${folder}/${name}`);
  const leaks = ctx.folderCopies.flatMap((c) =>
    CONTEXT_SECRET_PROBES.map((p) => ({ c, p: under(c.folder, p) })).filter(({ p }) => !ctx.ignore.ignores(p)),
  );
  if (leaks.length > 0) {
    const first = leaks[0]!.c;
    const paths = [...new Set(leaks.map((l) => l.p.replace("sub/dir/", "*/").replace("sub/", "*/")))];
    ctx.results.push({
      id: "dockerfile.dockerignore",
      status: "fail",
      message: `${first.k} ${first.src} would copy ${paths.slice(0, 6).join(", ")}${paths.length > 6 ? ", ..." : ""} into the image when present: ${ctx.ignoreFile ? `${ctx.ignoreFile} does not exclude them` : "there is no .dockerignore"}`,
      where: at(ctx, first.line),
      fix: `add ".env*" and "**/.env*" to ${ignoreName}`,
    });
  }
  // The whole context: probe node_modules (root and nested) and .git; a sub-folder: only a node_modules it really holds.
  const bloat = ctx.folderCopies.flatMap((c) =>
    (c.folder === "."
      ? ["node_modules", "sub/node_modules", ".git"]
      : existsSync(join(ctx.contextDir, c.folder, "node_modules"))
        ? ["node_modules"]
        : []
    )
      .map((n) => ({ c, n: basename(n), p: under(c.folder, n) }))
      .filter(({ p }) => !ctx.ignore.ignores(p)),
  );
  if (bloat.length > 0) {
    const first = bloat[0]!.c;
    const names = [...new Set(bloat.map((b) => b.n))];
    ctx.results.push({
      id: "dockerfile.dockerignore",
      status: "warn",
      message: `${first.k} ${first.src} would send ${[...new Set(bloat.map((b) => b.p.replace("sub/", "*/")))].join(", ")} into the build: ${names.includes("node_modules") ? "host-installed modules slow the build and can break the install inside the image" : "the git history only slows the build"}`,
      where: at(ctx, first.line),
      fix: `add ${names.map((n) => `"${n === "node_modules" ? "**/node_modules" : n}"`).join(" and ")} to ${ignoreName}`,
    });
  }
}

function checkFinalUser(ctx: Ctx, stages: Stage[], final: Stage): void {
  const user = effectiveUser(stages, final);
  if (!user) {
    ctx.results.push({
      id: "dockerfile.user",
      status: "fail",
      message: `the final stage (line ${final.line}) sets no USER: the app runs as whatever the base image says, usually root`,
      where: at(ctx, final.line),
      fix: "add USER <non-root user> in the final stage (node images: USER node; distroless: USER nonroot:nonroot)",
    });
    return;
  }
  const name = user.value.split(":")[0]!.trim();
  if (hasVariable(name)) {
    ctx.results.push({
      id: "dockerfile.user",
      status: "warn",
      message: `USER ${user.value} uses a variable; cannot tell whether it is root`,
      where: at(ctx, user.line),
      fix: "write the user name literally",
    });
  } else if (name === "" || name === "root" || name === "0") {
    ctx.results.push({
      id: "dockerfile.user",
      status: "fail",
      message: `the final image runs as ${name === "" ? "an empty USER" : `USER ${user.value}`} (root)`,
      where: at(ctx, user.line),
      fix: "end the final stage with USER <non-root user> (node images: USER node; distroless: USER nonroot:nonroot)",
    });
  }
}

/** CMD/ENTRYPOINT in shell form run under /bin/sh, which does not pass SIGTERM/SIGINT on: no graceful shutdown on deploys. */
function checkExecForm(ctx: Ctx, stages: Stage[], final: Stage): void {
  for (const k of ["ENTRYPOINT", "CMD"]) {
    const instr = chain(stages, final)
      .flatMap((s) => s.instructions)
      .filter((i) => kw(i) === k)
      .at(-1);
    if (!instr || jsonForm(instr.getArgumentsContent()) !== undefined) continue;
    ctx.results.push({
      id: "dockerfile.exec-form",
      status: "warn",
      message: `${k} is in shell form: the app runs under /bin/sh -c, which does not forward SIGINT/SIGTERM, so Fly's stop signal never reaches it and it is killed after kill_timeout`,
      where: at(ctx, lineOf(instr)),
      fix: `write ${k} in exec form, e.g. ${k} ["node", "/app/build/server.mjs"]`,
    });
  }
}

interface FlyFacts {
  where: string;
  env: Record<string, string>;
  internalPort: number | undefined;
  tcpCheckPorts: number[];
}

function readFlyToml(ctx: Ctx, path: string | undefined): FlyFacts | undefined {
  if (path === undefined) return undefined;
  const rel = relative(ctx.contextDir, resolve(path));
  const where = rel.startsWith("..") ? path : rel;
  try {
    const doc = parseToml(readFileSync(path, "utf8")) as Record<string, unknown>;
    const table = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
    const env = Object.fromEntries(Object.entries(table(doc.env)).map(([k, v]) => [k, String(v)]));
    const port = table(doc.http_service).internal_port;
    const tcpCheckPorts = Object.values(table(doc.checks))
      .map(table)
      .filter((c) => c.type === "tcp" && Number.isInteger(c.port))
      .map((c) => c.port as number);
    return { where, env, internalPort: Number.isInteger(port) ? (port as number) : undefined, tcpCheckPorts };
  } catch (err) {
    ctx.results.push({
      id: "dockerfile.fly-toml",
      status: "warn",
      message: `cannot read ${where} (${(err as Error).message.split("\n")[0]}); the image's ports were not compared with it`,
      where,
      fix: `fix ${where} (the fly.toml checks say how)`,
    });
    return undefined;
  }
}

function exposedPorts(stages: Stage[], final: Stage): { ports: number[]; line: number } | undefined {
  const exposes = chain(stages, final)
    .flatMap((s) => s.instructions)
    .filter((i) => kw(i) === "EXPOSE");
  if (exposes.length === 0) return undefined;
  const ports = exposes
    .flatMap((i) => (i.getArgumentsContent() ?? "").trim().split(/\s+/))
    .map((p) => parsePort(p.replace(/\/(tcp|udp)$/i, "")))
    .filter((p): p is number => p !== undefined);
  return { ports, line: lineOf(exposes.at(-1)!) };
}

// ---------------------------------------------------------------------------------------------
// A Node/Remix app that loads gRPC protos (stack "node-remix")

function checkNodeRemix(ctx: Ctx, stages: Stage[], final: Stage, fly: FlyFacts | undefined, app: string): void {
  const env = stageEnv(stages, final);
  const protoRoot = env.get("GRPC_PROTO_ROOT");
  const effectiveProtoRoot = fly?.env.GRPC_PROTO_ROOT ?? protoRoot?.value;
  if (effectiveProtoRoot !== CLIENT_PROTO_ROOT) {
    ctx.results.push({
      id: `dockerfile.${app}.proto-root`,
      status: "fail",
      message:
        effectiveProtoRoot === undefined
          ? `the final stage sets no GRPC_PROTO_ROOT: the ${app} looks for protos next to build/server.mjs, not at ${CLIENT_PROTO_ROOT}`
          : `GRPC_PROTO_ROOT is "${effectiveProtoRoot}"${fly?.env.GRPC_PROTO_ROOT !== undefined ? ` (from ${fly.where} [env])` : ""}; the image keeps the protos at ${CLIENT_PROTO_ROOT}`,
      where: fly?.env.GRPC_PROTO_ROOT !== undefined ? `${fly.where} [env].GRPC_PROTO_ROOT` : at(ctx, protoRoot?.line ?? final.line),
      fix: `set ENV GRPC_PROTO_ROOT=${CLIENT_PROTO_ROOT} in the final stage${fly ? ` (and the same in ${fly.where} [env], or leave it out there)` : ""}`,
    });
  }

  const copies = chain(stages, final).flatMap((s) => s.instructions.filter((i) => kw(i) === "COPY").map((i) => ({ i, s })));
  const protoCopied = copies.some(({ i, s }) => {
    const { sources, dest } = copyOperands(i);
    if (dest === undefined || resolveDest(stages, s, lineOf(i), dest) !== CLIENT_PROTO_ROOT) return false;
    return sources.some((src) => basename(normalizeImagePath(src)) === "proto");
  });
  if (!protoCopied) {
    ctx.results.push({
      id: `dockerfile.${app}.proto`,
      status: "fail",
      message: `the final stage does not copy a proto folder to ${CLIENT_PROTO_ROOT}: the ${app} fails to load its gRPC service definitions at start`,
      where: at(ctx, final.line),
      fix: `add COPY proto/ ${CLIENT_PROTO_ROOT}/ to the final stage`,
    });
  }

  const buildCopied = copies.some(({ i }) => {
    if (!flagsOf(i).get("from")) return false;
    return copyOperands(i).sources.some((src) => {
      const p = normalizeImagePath(src);
      return basename(p) === "build" || p.includes("/build/");
    });
  });
  if (!buildCopied) {
    ctx.results.push({
      id: `dockerfile.${app}.build`,
      status: "fail",
      message: "the final stage copies no Remix build (a build/ folder) from a build stage: there is no server to start",
      where: at(ctx, final.line),
      fix: `run \`pnpm --filter ${app} build\` in a build stage and COPY --from=<that stage> <the app's folder>/build /app/build in the final stage`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Ports of a public app (Fly's proxy, [http_service])

function checkPublicPorts(ctx: Ctx, stages: Stage[], final: Stage, fly: FlyFacts | undefined, c: BuiltPortContract): void {
  const env = stageEnv(stages, final);

  const imagePort = env.get(c.portEnv);
  const listenPort = parsePort(fly?.env[c.portEnv]) ?? parsePort(imagePort?.value) ?? c.port;
  if (fly?.internalPort !== undefined && fly.env[c.portEnv] === undefined && listenPort !== fly.internalPort) {
    ctx.results.push({
      id: `dockerfile.${c.app}.port`,
      status: "fail",
      message: `the image sets ${c.portEnv}=${imagePort?.value ?? c.port} and ${fly.where} does not override it, but [http_service] internal_port = ${fly.internalPort}: Fly's proxy finds nothing listening`,
      where: at(ctx, imagePort?.line ?? final.line),
      fix: `set ${c.portEnv} = "${fly.internalPort}" in ${fly.where} [env], or ENV ${c.portEnv}=${fly.internalPort} in the final stage`,
    });
  }
  const exposed = exposedPorts(stages, final);
  if (exposed && !exposed.ports.includes(listenPort)) {
    ctx.results.push({
      id: `dockerfile.${c.app}.port`,
      status: "warn",
      message: `EXPOSE ${exposed.ports.join(" ")} but the ${c.app} listens on ${listenPort}: the image documents the wrong port`,
      where: at(ctx, exposed.line),
      fix: `EXPOSE ${listenPort}`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// A static Go binary (stack "go-static")

function checkGoStatic(ctx: Ctx, stages: Stage[], app: string): void {
  const builds: { instr: Instruction; stage: Stage }[] = [];
  for (const stage of stages)
    for (const instr of stage.instructions)
      if (kw(instr) === "RUN" && /\bgo\s+build\b/.test(instr.getArgumentsContent() ?? "")) builds.push({ instr, stage });
  if (builds.length === 0) {
    ctx.results.push({
      id: `dockerfile.${app}.static`,
      status: "fail",
      message: `no stage runs \`go build\`: the ${app} binary is not built in the image`,
      where: at(ctx, stages[0]?.line ?? 1),
      fix: `add RUN CGO_ENABLED=0 go build -trimpath -o /out/${app} ./cmd/${app} to a build stage`,
    });
  }
  for (const { instr, stage } of builds) {
    const line = lineOf(instr);
    const inRun = /\bCGO_ENABLED=0\b/.test(instr.getArgumentsContent() ?? "");
    let inEnv = false;
    for (const s of chain(stages, stage)) {
      for (const i of s.instructions) {
        if (lineOf(i) >= line) break;
        const k = kw(i);
        if (k === "ENV" || k === "ARG") for (const p of properties(i)) if (p.name === "CGO_ENABLED") inEnv = p.value === "0";
      }
    }
    if (!inRun && !inEnv) {
      ctx.results.push({
        id: `dockerfile.${app}.static`,
        status: "fail",
        message: `go build at line ${line} does not set CGO_ENABLED=0: the binary links libc dynamically and does not start on a static/distroless base`,
        where: at(ctx, line),
        fix: "prefix the command with CGO_ENABLED=0 (RUN CGO_ENABLED=0 go build ...) or set ENV CGO_ENABLED=0 in the build stage",
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Ports of an internal app (no services; reached over 6PN as <fly-app>.internal)

function checkInternalPorts(ctx: Ctx, stages: Stage[], final: Stage, fly: FlyFacts | undefined, c: BuiltPortContract): void {
  const env = stageEnv(stages, final);
  const imageHost = c.hostEnv === undefined ? undefined : env.get(c.hostEnv);
  if (c.hostEnv !== undefined && fly?.env[c.hostEnv] === undefined && imageHost !== undefined && imageHost.value.trim() !== "::") {
    ctx.results.push({
      id: `dockerfile.${c.app}.host`,
      status: "fail",
      message: `the image sets ${c.hostEnv}=${imageHost.value}${fly ? ` and ${fly.where} does not override it` : ""}: only "::" is reachable over Fly's IPv6 private network (<app>.internal)`,
      where: at(ctx, imageHost.line),
      fix: `set ENV ${c.hostEnv}=:: in the final stage (or remove it if the ${c.app} defaults to ::)`,
    });
  }
  const imagePort = env.get(c.portEnv);
  const grpcPort = parsePort(fly?.env[c.portEnv]) ?? parsePort(imagePort?.value) ?? c.port;
  if (fly && fly.env[c.portEnv] === undefined && fly.tcpCheckPorts.length > 0 && !fly.tcpCheckPorts.includes(grpcPort)) {
    ctx.results.push({
      id: `dockerfile.${c.app}.port`,
      status: "fail",
      message: `the image listens on ${c.portEnv}=${grpcPort} and ${fly.where} does not override it, but its tcp checks watch port ${fly.tcpCheckPorts.join(", ")}: the checks fail and the deploy never turns healthy`,
      where: at(ctx, imagePort?.line ?? final.line),
      fix: `set ${c.portEnv} = "${fly.tcpCheckPorts[0]}" in ${fly.where} [env], or make the image and the [checks] port agree`,
    });
  }
  const exposed = exposedPorts(stages, final);
  if (exposed && !exposed.ports.includes(grpcPort)) {
    ctx.results.push({
      id: `dockerfile.${c.app}.port`,
      status: "warn",
      message: `EXPOSE ${exposed.ports.join(" ")} but the ${c.app} listens on ${grpcPort}: the image documents the wrong port`,
      where: at(ctx, exposed.line),
      fix: `EXPOSE ${grpcPort}`,
    });
  }
}
