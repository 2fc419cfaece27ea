import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { goFilepathMatch } from "../../src/preflight/go-filepath-match.ts";

/** Asks Go's own path/filepath.Match (test/fixtures/go-filepath-match) about each pair. */
function goMatches(pairs: readonly [string, string][]): { matched: boolean; bad?: boolean }[] {
  const out = execFileSync("go", ["run", "."], {
    cwd: resolve(import.meta.dirname, "../fixtures/go-filepath-match"),
    input: `${pairs.map((p) => JSON.stringify(p)).join("\n")}\n`,
    env: { ...process.env, GOFLAGS: "-mod=readonly" },
    encoding: "utf8",
    timeout: 240_000,
  });
  return out
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

const ours = (pattern: string, name: string) => {
  const m = goFilepathMatch(pattern, name);
  return m.bad ? { matched: false, bad: true } : { matched: m.matched };
};

describe("goFilepathMatch: the same answers as Go's path/filepath.Match (Docker's rule for COPY wildcards)", () => {
  const EDGES: [string, string][] = [
    ["*", "abc"],
    ["*", "a/b"],
    ["a*", "a"],
    ["a*b", "a/b"],
    ["*c", "abc"],
    ["a?c", "abc"],
    ["a?c", "a/c"],
    ["?", "é"],
    ["??", "é"],
    ["*??", "é"],
    ["[a-c]", "b"],
    ["[^a-c]", "d"],
    ["[]a]", "]"],
    ["[^]a]", "b"],
    ["[\\]]", "]"],
    ["*[\\]]*", "x]y"],
    ["[é-ë]", "ê"],
    ["\\*", "*"],
    ["\\", "\\"],
    ["[", "a"],
    ["[a-", "a"],
    ["[-a]", "-"],
    ["a[", "b"],
    ["*x*[", ""],
    ["[]", "a"],
    ["", ""],
    [".*", ".env"],
    ["*.json", "package.json"],
  ];

  it("agrees with Go on every edge of the grammar, malformed patterns included", () => {
    const go = goMatches(EDGES);
    expect(EDGES.map(([p, n]) => [p, n, ours(p, n)])).toEqual(EDGES.map(([p, n], i) => [p, n, go[i]]));
  }, 300_000);

  it("agrees with Go on thousands of generated patterns and names", () => {
    // Each pattern piece with names that (mostly) match it, so matches and misses both occur often; and names built at random.
    const PIECES: Record<string, string[]> = {
      a: ["a"],
      b: ["b", "a"],
      ".": ["."],
      "-": ["-"],
      "/": ["/", "a"],
      "*": ["", "a", "ab", "é", "a/b"],
      "?": ["a", "é", "/", ""],
      "[ab]": ["a", "b", "c"],
      "[^a]": ["b", "a", "é"],
      "[a-c]": ["b", "d"],
      "[]a]": ["]", "a", "b"],
      "[^]a]": ["b", "]"],
      "\\*": ["*", "a"],
      "\\a": ["a", "\\"],
      "[": ["[", "a"],
      "]": ["]"],
      "^": ["^"],
      "[\\]]": ["]", "\\"],
      é: ["é", "e"],
      "[é-ë]": ["ê", "e", "ë"],
      "\\": ["\\", ""],
    };
    const shaped = fc
      .array(
        fc.constantFrom(...Object.keys(PIECES)).chain((piece) => fc.tuple(fc.constant(piece), fc.constantFrom(...PIECES[piece]!))),
        { minLength: 1, maxLength: 5 },
      )
      .map((parts): [string, string] => [parts.map(([p]) => p).join(""), parts.map(([, n]) => n).join("")]);
    const namePiece = fc.constantFrom("a", "b", "c", ".", "-", "/", "*", "?", "[", "]", "^", "\\", "é", "ê", "");
    const random = fc.tuple(
      fc.array(fc.constantFrom(...Object.keys(PIECES)), { minLength: 1, maxLength: 5 }).map((p) => p.join("")),
      fc.array(namePiece, { maxLength: 6 }).map((p) => p.join("")),
    );
    const pairs = fc.sample(fc.oneof(shaped, random), 4000);
    const go = goMatches(pairs);
    const disagreements = pairs
      .map(([p, n], i) => ({ pattern: p, name: n, ours: ours(p, n), go: go[i] }))
      .filter((r) => JSON.stringify(r.ours) !== JSON.stringify(r.go));
    expect(disagreements.slice(0, 10)).toEqual([]);
    expect(go.filter((r) => r.matched).length).toBeGreaterThan(200);
    expect(go.filter((r) => r.bad).length).toBeGreaterThan(200);
  }, 300_000);
});
