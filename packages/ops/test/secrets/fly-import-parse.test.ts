import { describe, expect, it } from "vitest";
import { FLY_MAX_LINE_BYTES, FlyImportPanicError, FlyImportParseError, parseFlyImport } from "../../src/secrets/fly-import-format.ts";

/** The pairs as a plain object, for exact comparison. */
function pairsOf(stdin: string): Record<string, string> {
  return Object.fromEntries(parseFlyImport(stdin).pairs);
}

// Cases from flyctl's own parser_test.go (superfly/flyctl internal/command/secrets) and the rules of
// its parser.go.
describe("parseFlyImport: flyctl v0.4.x behaviour", () => {
  it("skips comments and whitespace-only lines", () => {
    expect(pairsOf("\n# A comment plus a new line with spaces\n   \t\nFOO=BAR\n# Another comment\nQUX=NAH\n")).toEqual({
      FOO: "BAR",
      QUX: "NAH",
    });
  });

  it("treats only a first-character # as a comment line", () => {
    expect(pairsOf(" #X=1\n")).toEqual({ "#X": "1" });
  });

  it("reads CRLF and a final line without newline", () => {
    expect(pairsOf("FOO=BAR\r\nQUX=NAH\r\nLAST=x")).toEqual({ FOO: "BAR", QUX: "NAH", LAST: "x" });
  });

  it("keeps a CR that is not at the end of a line", () => {
    expect(pairsOf("A=x\ry\n")).toEqual({ A: "x\ry" });
  });

  it("splits at the first = and trims the name", () => {
    expect(pairsOf("FOO = BAR\nURL=postgres://h/db?a=b\n")).toEqual({ FOO: "BAR", URL: "postgres://h/db?a=b" });
  });

  it("trims names with Go's whitespace set (NEL, NBSP) but not a BOM", () => {
    expect(pairsOf("\u0085KEY\u00A0=v\n\uFEFFB=1\n")).toEqual({ KEY: "v", "\uFEFFB": "1" });
  });

  it("removes leading spaces but not tabs, and keeps trailing spaces", () => {
    expect(pairsOf("A=   x\nB=\tx\nC=x  \n")).toEqual({ A: "x", B: "\tx", C: "x  " });
  });

  it('cuts an inline comment when an even number of " precede the #', () => {
    expect(pairsOf('P=ab#c\nQ="a # b"\nR=\'a#b\'\nS="BAR BAZ" # comment\nT=a  # c\n')).toEqual({
      P: "ab",
      Q: "a # b",
      R: "'a",
      S: "BAR BAZ",
      T: "a",
    });
  });

  it('keeps a # after an odd number of "', () => {
    expect(pairsOf('A=x"#y\n')).toEqual({ A: 'x"#y' });
  });

  it("strips one pair of outer double quotes, else single quotes, without escapes", () => {
    expect(pairsOf('A="a\\nb"\nB=\'v\'\nC=""x""\nD="\'x\'"\nE=\'"x"\'\nF="x\nG=\n')).toEqual({
      A: "a\\nb",
      B: "v",
      C: '"x"',
      D: "'x'",
      E: '"x"',
      F: '"x',
      G: "",
    });
  });

  it("reads one-line triple quotes of 6+ characters (C-01)", () => {
    expect(pairsOf('A="""x"""\nB="""y"""\nC=z\nEMPTY=""""""\nSP="""  s  """\n')).toEqual({
      A: "x",
      B: "y",
      C: "z",
      EMPTY: "",
      SP: "  s  ",
    });
  });

  it('reads multi-line triple quotes verbatim: rest of first line + \\n, lines + \\n, text before the closing """', () => {
    const stdin = 'FOO=BAR\nM="""SOMETHING\n# not a comment\n  spaced  \n\nENDSHERE"""\nTRAILER=what\nE="""\nx\n"""\n';
    expect(pairsOf(stdin)).toEqual({
      FOO: "BAR",
      M: "SOMETHING\n# not a comment\n  spaced  \n\nENDSHERE",
      TRAILER: "what",
      E: "\nx\n",
    });
  });

  it('opens a block when """ is followed by fewer than 6 characters in total', () => {
    expect(pairsOf('A=""""\nx"""\nB="""""\ny"""\n')).toEqual({ A: '"\nx', B: '""\ny' });
  });

  it("applies the inline-comment rule to the opening line of a block", () => {
    expect(pairsOf('A="""abc # c\nz"""\nB="""a"#b\nz"""\n')).toEqual({ A: "abc # c\nz", B: 'a"\nz' });
  });

  it('closes a block only on a line that ends with """', () => {
    expect(pairsOf('A="""x\n""" not yet\nend"""\n')).toEqual({ A: 'x\n""" not yet\nend' });
  });

  it("silently drops a block never closed", () => {
    const result = parseFlyImport('A=1\nB="""x\ny\nC=3\n');
    expect(Object.fromEntries(result.pairs)).toEqual({ A: "1" });
    expect(result.droppedUnterminated).toEqual(["B"]);
    expect(result.stoppedAtLine).toBeNull();
  });

  it("lets a later duplicate win", () => {
    expect(pairsOf("A=1\nB=2\nA=3\n")).toEqual({ A: "3", B: "2" });
    expect([...parseFlyImport("A=1\nB=2\nA=3\n").pairs.keys()]).toEqual(["A", "B"]);
  });

  it("fails on a line without = and echoes the line, as flyctl does", () => {
    expect(() => parseFlyImport("A=1\njust text\n")).toThrow(FlyImportParseError);
    expect(() => parseFlyImport("just text\n")).toThrow(
      "Failed to parse secrets from stdin: Secrets must be provided as NAME=VALUE pairs (just text is invalid)",
    );
  });

  it("panics (exit 3) on a value that is exactly \" or '", () => {
    for (const stdin of ['A="\n', "A='\n", "A='#x\n", 'A= "\n']) {
      let caught: unknown;
      try {
        parseFlyImport(stdin);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FlyImportPanicError);
      expect((caught as FlyImportPanicError).exitCode).toBe(3);
    }
  });

  it("stops silently at a line longer than 65,535 bytes", () => {
    const fits = `A=${"x".repeat(FLY_MAX_LINE_BYTES - 2)}`;
    expect(pairsOf(`${fits}\nB=2`).A?.length).toBe(FLY_MAX_LINE_BYTES - 2);
    expect(pairsOf(fits).A?.length).toBe(FLY_MAX_LINE_BYTES - 2);
    const result = parseFlyImport(`A=1\nB=${"é".repeat(FLY_MAX_LINE_BYTES / 2)}\nC=3\n`);
    expect(Object.fromEntries(result.pairs)).toEqual({ A: "1" });
    expect(result.stoppedAtLine).toBe(2);
  });

  it("drops an open block when reading stops at a long line", () => {
    const result = parseFlyImport(`A="""x\n${"y".repeat(FLY_MAX_LINE_BYTES + 1)}\nz"""\n`);
    expect(result.pairs.size).toBe(0);
    expect(result.droppedUnterminated).toEqual(["A"]);
    expect(result.stoppedAtLine).toBe(2);
  });

  it("returns no pairs for empty input", () => {
    expect(parseFlyImport("").pairs.size).toBe(0);
  });
});
