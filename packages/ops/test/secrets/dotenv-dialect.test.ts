import { describe, expect, it } from "vitest";
import { SecretsError } from "../../src/errors.ts";
import { parseSecretsFile } from "../../src/secrets/dotenv-dialect.ts";

/** key → revealed value, for exact comparison. */
function values(text: string | Buffer): Record<string, string> {
  return Object.fromEntries(parseSecretsFile(text).entries.map((e) => [e.key, e.value.reveal()]));
}

function errorOf(text: string | Buffer, source?: string): SecretsError {
  try {
    parseSecretsFile(text, source);
  } catch (error) {
    if (error instanceof SecretsError) return error;
    throw error;
  }
  throw new Error("expected a SecretsError");
}

describe("parseSecretsFile: lines, keys, comments", () => {
  it("reads KEY=VALUE lines with their line numbers, skipping blank and comment lines", () => {
    const parsed = parseSecretsFile("# header\n\nA=1\n   # indented comment\n\t\nB=2\n");
    expect(parsed.entries.map((e) => [e.key, e.value.reveal(), e.line])).toEqual([
      ["A", "1", 3],
      ["B", "2", 6],
    ]);
    expect(parsed.warnings).toEqual([]);
  });

  it("allows spaces and tabs around = and before the key", () => {
    expect(values("A = 1\nB\t=\tx y\n  C=3\n")).toEqual({ A: "1", B: "x y", C: "3" });
  });

  it("drops export with any spaces after it (C-06)", () => {
    const parsed = parseSecretsFile('export FLY_APP_CLIENT=web\nexport  DATABASE_URL="postgresql://h/db"\nexport\tT=1\n');
    expect(parsed.entries.map((e) => [e.key, e.value.reveal()])).toEqual([
      ["FLY_APP_CLIENT", "web"],
      ["DATABASE_URL", "postgresql://h/db"],
      ["T", "1"],
    ]);
  });

  it("reads a key named export, and export_X keys", () => {
    expect(values("export=1\nexport_X=2\n")).toEqual({ export: "1", export_X: "2" });
    expect(values("export = 3\n")).toEqual({ export: "3" });
  });

  it("allows an empty value in every form", () => {
    expect(values("A=\nB=''\nC=\"\"\nD=\"\"\"\"\"\"\nE= # only a comment\n")).toEqual({ A: "", B: "", C: "", D: "", E: "" });
  });

  it.each([
    ["1ABC=x\n", 1, 1],
    ["MY-KEY=x\n", 1, 3],
    ["A=1\n  bad key=x\n", 2, 6],
    ["=x\n", 1, 1],
    ["export 9=x\n", 1, 7],
  ])("rejects the invalid key in %j at line %i, column %i, without echoing it", (text, line, column) => {
    const error = errorOf(text);
    expect(error.message).toBe(
      `.env.production:${line}: invalid key at column ${column}: keys must match ^[A-Za-z_][A-Za-z0-9_]*$ (the text is not shown: it may hold a secret)`,
    );
    expect(error.where).toBe(`.env.production:${line}`);
  });

  it("rejects a line without = naming only its number", () => {
    const error = errorOf("A=1\nsk_live_pasted_without_key\n", "prod.env");
    expect(error.message).toBe('prod.env:2: expected KEY=VALUE but the line has no "=" (its text is not shown: it may hold a secret)');
    expect(error.message).not.toContain("sk_live");
    expect(errorOf("export A\n").message).toMatch(/^\.env\.production:1: expected KEY=VALUE/);
  });

  it("rejects a duplicate key naming both lines", () => {
    expect(errorOf("A=1\nB=2\n\nA=3\n").message).toBe(".env.production:4: duplicate key A (first defined at line 1)");
    expect(errorOf("export A=1\nA=2\n").message).toBe(".env.production:2: duplicate key A (first defined at line 1)");
  });
});

describe("parseSecretsFile: unquoted values", () => {
  it("trims, and starts an inline comment only at a # after a space or tab", () => {
    expect(values("A=  value  \nB=ab#c\nC=ab #c\nD=ab\t# c\nE=#notcomment\nF= #comment\n")).toEqual({
      A: "value",
      B: "ab#c",
      C: "ab",
      D: "ab",
      E: "#notcomment",
      F: "",
    });
  });

  it("keeps $, backslashes, = and inner quotes literally (C-07)", () => {
    expect(values('ADMIN_HASH=$2b$10$abcdefghijklmnopqrstuv\nGREETING=hello world\nP=a\\nb\nQ=x=y\nR=it\'s "ok"\nS=${HOME}\n')).toEqual({
      ADMIN_HASH: "$2b$10$abcdefghijklmnopqrstuv",
      GREETING: "hello world",
      P: "a\\nb",
      Q: "x=y",
      R: "it's \"ok\"",
      S: "${HOME}",
    });
  });
});

describe("parseSecretsFile: single quotes", () => {
  it("are literal, with a comment allowed after the closing quote", () => {
    expect(values("A='a #b $c \\n \"d\"'\nB=' sp ' # note\n")).toEqual({ A: 'a #b $c \\n "d"', B: " sp " });
  });

  it("must close on the same line", () => {
    expect(errorOf("A=1\nKEY='abc\ndef'\n").message).toBe(
      ".env.production:2: the single-quoted value of KEY is not closed on the same line (single-quoted values cannot span lines)",
    );
  });

  it("allow nothing but a comment after the closing quote", () => {
    expect(errorOf("KEY='abc'def\n").message).toBe(".env.production:1: unexpected text after the closing quote of KEY");
  });
});

describe("parseSecretsFile: double quotes", () => {
  it("apply the escapes \\n \\r \\t \\\\ \\\" \\$ and nothing else", () => {
    expect(values('A="a\\nb\\tc\\\\d\\"e\\$f $g"\nB="x\\ry"\nC="  # kept  " # comment\n')).toEqual({
      A: 'a\nb\tc\\d"e$f $g',
      B: "x\ry",
      C: "  # kept  ",
    });
  });

  it("turn \\n escapes into real newlines (C-02)", () => {
    expect(values('CERT="-----BEGIN X-----\\nAAA\\n-----END X-----\\n"\n')).toEqual({ CERT: "-----BEGIN X-----\nAAA\n-----END X-----\n" });
  });

  it("may span real lines, each break a \\n (C-02)", () => {
    const parsed = parseSecretsFile('A=1\nCERT="-----BEGIN X-----\nAAA\n-----END X-----"\nB=2\n');
    expect(parsed.entries.map((e) => [e.key, e.value.reveal(), e.line])).toEqual([
      ["A", "1", 1],
      ["CERT", "-----BEGIN X-----\nAAA\n-----END X-----", 2],
      ["B", "2", 5],
    ]);
  });

  it("reject an unknown escape naming key and line, not the character", () => {
    expect(errorOf('A=1\nWIN_PATH="C:\\Users"\n').message).toBe(
      ".env.production:2: unknown escape sequence in the double-quoted value of WIN_PATH (opened on line 2)",
    );
    expect(errorOf('K="ab\\\ncd"\n').message).toMatch(/^\.env\.production:1: unknown escape sequence .* K/);
  });

  it("report an unterminated value with key and opening line", () => {
    expect(errorOf('A=1\nKEY="abc\nB=2\n').message).toBe(".env.production:2: the double-quoted value of KEY opened on line 2 is never closed");
    expect(errorOf('KEY="abc\\"\n').message).toBe(".env.production:1: the double-quoted value of KEY opened on line 1 is never closed");
  });

  it("allow nothing but a comment after the closing quote", () => {
    expect(errorOf('A=1\nKEY="multi\nline" extra\n').message).toBe(".env.production:3: unexpected text after the closing quote of KEY");
  });
});

describe('parseSecretsFile: """ blocks', () => {
  it('read one-line """x""" as x (C-01)', () => {
    expect(values('A="""x"""\nB="""y"""\nC=z\nD="""a "quoted" #x""" # comment\n')).toEqual({ A: "x", B: "y", C: "z", D: 'a "quoted" #x' });
  });

  it("read a block as rest of first line + \\n + lines verbatim, up to the closing \"\"\" (like flyctl)", () => {
    const parsed = parseSecretsFile('CERT="""-----BEGIN X-----\n  AAA\\n $x # y\n\n-----END X-----"""\nNEXT="""\nline\n"""\n');
    expect(parsed.entries.map((e) => [e.key, e.value.reveal(), e.line])).toEqual([
      ["CERT", "-----BEGIN X-----\n  AAA\\n $x # y\n\n-----END X-----", 1],
      ["NEXT", "\nline\n", 5],
    ]);
  });

  it("report a block never closed with key and opening line (C-01)", () => {
    expect(errorOf('A=1\nKEY="""abc\ndef\n').message).toBe('.env.production:2: the """ block of KEY opened on line 2 is never closed');
    expect(errorOf('KEY="""\n').message).toBe('.env.production:1: the """ block of KEY opened on line 1 is never closed');
  });

  it("allow nothing but a comment after the closing \"\"\"", () => {
    expect(errorOf('KEY="""abc"""x\n').message).toBe(".env.production:1: unexpected text after the closing quote of KEY");
    expect(errorOf('KEY="""abc\ndef""" tail\n').message).toBe(".env.production:2: unexpected text after the closing quote of KEY");
    expect(errorOf('KEY="""ends in quote""""\n').message).toBe(".env.production:1: unexpected text after the closing quote of KEY");
  });
});

describe("parseSecretsFile: encoding and line endings (C-04)", () => {
  it("strips a BOM and reads CRLF, with warnings and no \\r in values", () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("DATABASE_URL=postgresql://h/db\r\nAPI_TOKEN=abc\r\n")]);
    const parsed = parseSecretsFile(bytes);
    expect(parsed.entries.map((e) => [e.key, e.value.reveal(), e.line])).toEqual([
      ["DATABASE_URL", "postgresql://h/db", 1],
      ["API_TOKEN", "abc", 2],
    ]);
    expect(parsed.warnings).toEqual([
      ".env.production: the file starts with a UTF-8 byte order mark (BOM); it was ignored. Save the file as UTF-8 without BOM.",
      '.env.production: the file has Windows (CRLF) line endings; they were read as LF. Add ".env.production text eol=lf" to .gitattributes or re-save the file with LF endings.',
    ]);
  });

  it("treats a BOM in a string the same way", () => {
    expect(values("\uFEFFA=1\n")).toEqual({ A: "1" });
  });

  it("reads bare CR line endings, also inside quotes", () => {
    const parsed = parseSecretsFile('A=1\rB="x\ry"\rC=3');
    expect(parsed.entries.map((e) => [e.key, e.value.reveal(), e.line])).toEqual([
      ["A", "1", 1],
      ["B", "x\ny", 2],
      ["C", "3", 4],
    ]);
    expect(parsed.warnings).toEqual([
      '.env.production: the file has bare CR line endings; they were read as LF. Add ".env.production text eol=lf" to .gitattributes or re-save the file with LF endings.',
    ]);
  });

  it("reads a multi-line value from a CRLF file with LF only", () => {
    expect(values('CERT="""a\r\nb\r\n"""\r\nX="c\r\nd"\r\n')).toEqual({ CERT: "a\nb\n", X: "c\nd" });
  });

  it("rejects bytes that are not UTF-8, naming the line", () => {
    const bytes = Buffer.concat([Buffer.from("A=1\nB=caf"), Buffer.from([0xe9]), Buffer.from("\n")]);
    const error = errorOf(bytes, "latin1.env");
    expect(error.message).toBe("latin1.env:2: the file is not valid UTF-8");
    expect(errorOf(Buffer.from([0xff, 0xfe, 0x41, 0x00])).message).toBe(".env.production:1: the file is not valid UTF-8");
  });

  it("accepts multi-byte UTF-8", () => {
    expect(values(Buffer.from("A=café 🔑\n"))).toEqual({ A: "café 🔑" });
  });

  it("rejects a NUL naming the line", () => {
    expect(errorOf("A=1\nB=x\0y\n").message).toBe(".env.production:2: the file contains a NUL character");
  });
});
