/**
 * The repository stands alone: every field case cited as `C-nn` in code, tests and docs is defined
 * in docs/field-cases.md (a `### C-nn` heading), so someone who clones the repository can look each
 * one up; and nothing cites a section sign reference or a file of the private notes folder that
 * sat next to the repository while it was built (cite the public source: a flyctl docs page or
 * source file, a Neon docs page or API schema, the postgres-migrations README). The scanner is
 * tested on strings first, so the repository check cannot pass by accident. Fixture ids and the
 * forbidden strings are built at run time so that this file does not contain them itself.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const FIELD_CASES = "docs/field-cases.md";

/** Folders scanned (recursively) and files at the repository root scanned on their own. */
const SCANNED_DIRS = ["packages/ops", "apps", "infra", "scripts", "docs"];
/** Dependencies, build output, generated state: not ours to cite from. */
const SKIPPED_DIRS = new Set(["node_modules", ".git", ".turbo", ".ops", "dist", "build", "coverage"]);
const SKIPPED_PATHS = new Set(["apps/backend/bin"]);

const CASE_ID = /\bC-\d+\b/g;
/** The section sign: a citation written with it ("<sign>3.4") points at notes outside the repository. */
const SECTION_SIGN = "\u00a7";
/** Paths and names of the private notes that are not part of the repository. */
const PRIVATE_SOURCES = [
  ["..", "shared"].join("/"),
  ["", "work", "shared"].join("/"),
  ["reference", "flyctl.md"].join("/"),
  ["neon-postgres-migrations", "md"].join("."),
];
const CASE_HEADING = /^### (C-\d+)\b/gm;

export interface Finding {
  file: string;
  line: number;
  message: string;
}

/** The case ids defined by `### C-nn` headings of a markdown text. */
export function definedCases(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(CASE_HEADING)].map((m) => m[1]!));
}

/** Every citation in `text` (the contents of `file`) that points at nothing the repository holds. */
export function findCitationProblems(file: string, text: string, defined: ReadonlySet<string>): Finding[] {
  const findings: Finding[] = [];
  text.split("\n").forEach((lineText, i) => {
    const line = i + 1;
    for (const m of lineText.matchAll(CASE_ID)) {
      if (!defined.has(m[0]))
        findings.push({ file, line, message: `${m[0]} is not defined in ${FIELD_CASES} (add a "### ${m[0]}" section)` });
    }
    const at = lineText.indexOf(SECTION_SIGN);
    if (at >= 0) {
      const cited = lineText.slice(at, at + 12).split(/[\s),;]/)[0];
      findings.push({ file, line, message: `"${cited}" cites a section of notes outside the repository; cite the public source instead` });
    }
    for (const source of PRIVATE_SOURCES) {
      if (lineText.includes(source))
        findings.push({ file, line, message: `"${source}" is outside the repository; cite the public source instead` });
    }
  });
  return findings;
}

const format = (f: Finding) => `${f.file}:${f.line}: ${f.message}`;

/** Text files under the scanned folders, as paths relative to the repository root. */
function scannedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name) && !SKIPPED_PATHS.has(path)) walk(path);
      } else if (entry.isFile()) out.push(path);
    }
  };
  for (const dir of SCANNED_DIRS) walk(dir);
  for (const entry of readdirSync(repoRoot, { withFileTypes: true })) if (entry.isFile()) out.push(entry.name);
  return out;
}

function readText(path: string): string | undefined {
  const text = readFileSync(join(repoRoot, path), "utf8");
  return text.includes("\0") ? undefined : text;
}

const caseId = (n: number) => `C-${n}`;

describe("the citation scanner", () => {
  const defined = definedCases(
    `# Cases\n\n### ${caseId(1)} One\n\ntext ${caseId(2)} in prose is not a definition\n### ${caseId(3)}: Three\n`,
  );

  it("reads definitions from ### headings only", () => {
    expect([...defined]).toEqual([caseId(1), caseId(3)]);
  });

  it("accepts defined ids and names file:line of an undefined one", () => {
    const text = `// ${caseId(1)} and ${caseId(3)}\nconst x = 1; // see ${caseId(97)}\n\n/* ${caseId(3)}, ${caseId(98)} */\n`;
    expect(findCitationProblems("src/x.ts", text, defined).map(format)).toEqual([
      `src/x.ts:2: ${caseId(97)} is not defined in docs/field-cases.md (add a "### ${caseId(97)}" section)`,
      `src/x.ts:4: ${caseId(98)} is not defined in docs/field-cases.md (add a "### ${caseId(98)}" section)`,
    ]);
  });

  it("names file:line of a section sign citation and of a path to the private notes", () => {
    const sign = SECTION_SIGN;
    const notes = ["..", "shared"].join("/");
    const root = ["", "work", "shared", "x.md"].join("/");
    const text = `/** as flyctl does (${sign}3.4). */\nok\n// see ${notes}/design.md and ${root}\n`;
    expect(findCitationProblems("src/y.ts", text, defined).map(format)).toEqual([
      `src/y.ts:1: "${sign}3.4" cites a section of notes outside the repository; cite the public source instead`,
      `src/y.ts:3: "${notes}" is outside the repository; cite the public source instead`,
      `src/y.ts:3: "${["", "work", "shared"].join("/")}" is outside the repository; cite the public source instead`,
    ]);
  });

  it("does not take longer words for case ids", () => {
    expect(findCitationProblems("a.md", `ABC-97, C-x, ${caseId(1)}0`, defined).map(format)).toEqual([
      `a.md:1: ${caseId(10)} is not defined in docs/field-cases.md (add a "### ${caseId(10)}" section)`,
    ]);
  });
});

describe("the repository's citations", () => {
  const fieldCases = readFileSync(join(repoRoot, FIELD_CASES), "utf8");
  const defined = definedCases(fieldCases);

  it("defines each case once", () => {
    const headings = [...fieldCases.matchAll(CASE_HEADING)].map((m) => m[1]!);
    expect(headings.filter((id, i) => headings.indexOf(id) !== i)).toEqual([]);
    expect(headings.length).toBeGreaterThan(0);
  });

  it("names only test files that exist (paths relative to packages/ops/test/, or to the root)", () => {
    const named = [...new Set([...fieldCases.matchAll(/`([\w./-]+\.test\.ts)`/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(0);
    const exists = (p: string) => existsSync(join(repoRoot, "packages/ops/test", p)) || existsSync(join(repoRoot, p));
    expect(named.filter((p) => !exists(p))).toEqual([]);
  });

  it("cites only cases defined in docs/field-cases.md, and nothing outside the repository", () => {
    const files = scannedFiles();
    expect(files).toContain(relative(repoRoot, import.meta.filename));
    const problems = files.flatMap((file) => {
      const text = readText(file);
      return text === undefined ? [] : findCitationProblems(file, text, defined);
    });
    expect(problems.map(format)).toEqual([]);
  });
});
