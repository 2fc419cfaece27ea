/**
 * The build context of a Dockerfile: which local COPY/ADD sources exist, which of them the
 * .dockerignore lets through, and whether a folder copy would carry `.env` files, node_modules or
 * .git into the build.
 *
 * .dockerignore matching: `@balena/dockerignore`, a port of Docker's own matcher (patterns are
 * anchored at the context root, a pattern matching a folder excludes everything under it, `!`
 * re-includes). Which .dockerignore applies: `<Dockerfile>.dockerignore` next to the Dockerfile if
 * it exists (BuildKit's rule), else `<context>/.dockerignore`.
 * COPY wildcards: Docker matches them with Go's filepath.Match, ported in go-filepath-match.ts
 * (no npm glob library follows it).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, posix, relative, resolve } from "node:path";
import ignore, { type Ignore } from "@balena/dockerignore";
import type { Instruction } from "dockerfile-ast";
import { at, copyOperands, type Findings, flagsOf, hasVariable, kw, lineOf, REMOTE } from "./dockerfile-model.ts";
import { goFilepathMatch } from "./go-filepath-match.ts";

/** Findings plus what the context walk needs: the .dockerignore in force and the folders copied whole. */
export interface BuildContext extends Findings {
  ignore: Ignore;
  /** Path of the .dockerignore in use, relative to the context when inside it; undefined if none exists. */
  ignoreFile: string | undefined;
  /** Whether the .dockerignore has `!` rules (then an excluded folder can still hold included files). */
  hasExceptions: boolean;
  /** Folders sent whole by local COPY/ADD (`.` is the whole context), for the .dockerignore check. */
  folderCopies: { k: string; src: string; folder: string; line: number }[];
}

/** Reads the .dockerignore at `ignorePath` (none there: nothing is excluded) for the checks of the Dockerfile named `where`. */
export function openBuildContext(where: string, contextDir: string, ignorePath: string): BuildContext {
  const ignoreText = existsSync(ignorePath) ? readFileSync(ignorePath, "utf8") : undefined;
  const patterns = (ignoreText ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const ignoreRel = relative(contextDir, resolve(ignorePath));
  return {
    where,
    contextDir,
    ignore: ignore().add(patterns),
    ignoreFile: ignoreText === undefined ? undefined : ignoreRel.startsWith("..") ? ignorePath : ignoreRel,
    hasExceptions: patterns.some((p) => p.startsWith("!")),
    folderCopies: [],
    results: [],
  };
}

const WALK_LIMIT = 50_000;
const isWildcard = (s: string) => /[*?[]/.test(s);

/** Context-relative paths matching a COPY source with wildcards (per segment, like Docker); `bad` when Go finds a segment malformed. */
function expandWildcards(contextDir: string, rel: string): { matches: string[]; bad: boolean } {
  let current = [""];
  let bad = false;
  for (const segment of rel.split("/")) {
    const next: string[] = [];
    for (const base of current) {
      if (!isWildcard(segment)) {
        const p = base === "" ? segment : `${base}/${segment}`;
        if (existsSync(join(contextDir, p))) next.push(p);
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(join(contextDir, base));
      } catch {
        names = [];
      }
      for (const n of names) {
        const m = goFilepathMatch(segment, n);
        bad ||= m.bad === true;
        if (m.matched) next.push(base === "" ? n : `${base}/${n}`);
      }
    }
    current = next;
  }
  return { matches: current, bad };
}

/** Whether a folder sends at least one file (or an empty folder) to the build after .dockerignore. */
function folderSendsSomething(ctx: BuildContext, rel: string): boolean {
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

export function checkCopySources(ctx: BuildContext, instr: Instruction): void {
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
    const expanded = isWildcard(rel)
      ? expandWildcards(ctx.contextDir, rel)
      : { matches: existsSync(join(ctx.contextDir, rel)) ? [rel] : [], bad: false };
    if (expanded.bad) {
      ctx.results.push({
        id: "dockerfile.copy-source",
        status: "fail",
        message: `${k} source ${src} is not a valid pattern: Docker reads wildcards with Go's filepath.Match, which refuses it`,
        where: at(ctx, line),
        fix: "close every [ ] class, give each range two ends, and end the pattern with something other than a lone \\",
      });
      continue;
    }
    const matches = expanded.matches;
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
export function checkFolderCopies(ctx: BuildContext): void {
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
