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
    expect(values('A=\nB=\'\'\nC=""\nD=""""""\nE= # only a comment\n')).toEqual({ A: "", B: "", C: "", D: "", E: "" });
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
    expect(error.message).toBe(
      'prod.env:2: expected KEY=VALUE but the line has no "=" (its text is not shown: it may hold a secret); if it continues the value of A on line 1, write that value in double quotes or a """ block',
    );
    expect(errorOf("A=1\n\nsk_live_pasted\n", "prod.env").message).toBe(
      'prod.env:3: expected KEY=VALUE but the line has no "=" (its text is not shown: it may hold a secret)',
    );
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
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the dialect keeps ${HOME} literally
    expect(values('ADMIN_HASH=$2b$10$abcdefghijklmnopqrstuv\nGREETING=hello world\nP=a\\nb\nQ=x=y\nR=it\'s "ok"\nS=${HOME}\n')).toEqual({
      ADMIN_HASH: "$2b$10$abcdefghijklmnopqrstuv",
      GREETING: "hello world",
      P: "a\\nb",
      Q: "x=y",
      R: 'it\'s "ok"',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the dialect keeps ${HOME} literally
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
      [
        ".env.production has 2 malformed lines:",
        ".env.production:2: the single-quoted value of KEY is not closed on the same line (single-quoted values cannot span lines)",
        '.env.production:3: expected KEY=VALUE but the line has no "=" (its text is not shown: it may hold a secret); if it continues the value of KEY on line 2, write that value in double quotes or a """ block',
      ].join("\n  "),
    );
    expect(errorOf("A=1\nKEY='abc\n").message).toBe(
      ".env.production:2: the single-quoted value of KEY is not closed on the same line (single-quoted values cannot span lines)",
    );
  });

  it("allow nothing but a comment after the closing quote", () => {
    expect(errorOf("KEY='abc'def\n").message).toBe(".env.production:1: unexpected text after the closing quote of KEY");
  });
});

describe("parseSecretsFile: double quotes", () => {
  it('apply the escapes \\n \\r \\t \\\\ \\" \\$ and nothing else', () => {
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
    expect(errorOf('K="ab\\\ncd"\n').message).toMatch(
      /^\.env\.production has 2 malformed lines:\n {2}\.env\.production:1: unknown escape sequence .* K /,
    );
  });

  it("report an unterminated value with key and opening line", () => {
    expect(errorOf('A=1\nKEY="abc\nB=2\n').message).toBe(
      ".env.production:2: the double-quoted value of KEY opened on line 2 is never closed",
    );
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

  it('read a block as rest of first line + \\n + lines verbatim, up to the closing """ (like flyctl)', () => {
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

  it('allow nothing but a comment after the closing """', () => {
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

describe("parseSecretsFile: every malformed line at once", () => {
  it("lists each malformed line with its number and key, and goes on after each", () => {
    const text = `${["GOOD=1", "BAD ONE=x", "DUP=1", "DUP=2", 'ESC="a\\qb"', "S='open", 'T="x" tail', "LAST=ok"].join("\n")}\n`;
    const error = errorOf(text, "prod.env");
    expect(error.message).toBe(
      [
        "prod.env has 5 malformed lines:",
        "prod.env:2: invalid key at column 4: keys must match ^[A-Za-z_][A-Za-z0-9_]*$ (the text is not shown: it may hold a secret)",
        "prod.env:4: duplicate key DUP (first defined at line 3)",
        "prod.env:5: unknown escape sequence in the double-quoted value of ESC (opened on line 5)",
        "prod.env:6: the single-quoted value of S is not closed on the same line (single-quoted values cannot span lines)",
        "prod.env:7: unexpected text after the closing quote of T",
      ].join("\n  "),
    );
    expect(error.where).toBe("prod.env:2");
    expect(error.fix).toContain("Keep one of the two lines.");
    expect(error.fix).toContain("Use letters, digits and underscores");
  });

  it("never shows a value, even of the lines that failed", () => {
    const error = errorOf('TOKEN="sk_live_AAAA\\qBBBB"\nPW=\'hunter2hunter2\nx\n');
    expect(error.message).not.toMatch(/sk_live|AAAA|BBBB|hunter2/);
    expect(error.fix ?? "").not.toMatch(/sk_live|AAAA|BBBB|hunter2/);
  });
});

describe("parseSecretsFile: warnings where the reading is probably not what was meant", () => {
  const warningsOf = (text: string) => parseSecretsFile(text, "s.env").warnings;

  it.each<[string, string, string]>([
    [
      "an unquoted value with ' #'",
      "PASSWORD=abc #def\n",
      `s.env:1: PASSWORD: the unquoted value ends at " #": the rest of the line is read as a comment. If "#…" is part of the value, quote it: PASSWORD='…'; if it is a comment, put it on its own line.`,
    ],
    [
      "trailing whitespace",
      "A=1\nTOKEN=abc \t\n",
      's.env:2: TOKEN: the unquoted value has trailing spaces or tabs, which are dropped. If they are part of the value, quote it: TOKEN="…"; otherwise remove them.',
    ],
    [
      "a lone double quote",
      'K=abc"def\n',
      `s.env:1: K: the unquoted value has an unbalanced " quote, which is kept as part of the value. If the value was meant to be quoted, quote all of it: K="…" (or K='…' when it holds a ").`,
    ],
    [
      "a closing quote without an opening one",
      "K=abc'\n",
      `s.env:1: K: the unquoted value has an unbalanced ' quote, which is kept as part of the value. If the value was meant to be quoted, quote all of it: K="…" (or K='…' when it holds a ").`,
    ],
    [
      "an export prefix",
      "export API_TOKEN=x\n",
      's.env:1: API_TOKEN: the "export " prefix is dropped (the key is API_TOKEN); other tools may read this line differently. Remove "export ".',
    ],
    [
      "a shell line continuation",
      "KEY=abc\\\n",
      's.env:1: KEY: the unquoted value ends with a backslash, which is kept; the next line is not a continuation. For a multi-line value write KEY="line 1\\nline 2" or a """ block.',
    ],
    [
      "a double quote that swallows the next entries",
      'A="abc\nB=1\nC="\n',
      's.env:1: A: the double-quoted value opened here runs to line 3 and takes in lines 2, 3, which look like KEY=VALUE. If the quote was meant to close on line 1, close it there (escape a " inside as \\").',
    ],
    [
      'a """ block that swallows an entry',
      'A="""x\nB=1\n"""\n',
      's.env:1: A: the """ block opened here runs to line 3 and takes in line 2, which looks like KEY=VALUE. If the quote was meant to close on line 1, close it there (escape a " inside as \\").',
    ],
  ])("%s", (_name, text, expected) => {
    expect(warningsOf(text)).toEqual([expected]);
  });

  it("warnings never hold the value", () => {
    const all = warningsOf('export S=hunter2 #tail\nT=hunter2  \nU=hun"ter2\nV="hunter2\nW=1\n"\n').join("\n");
    expect(all).not.toMatch(/hunter2|tail/);
    expect(all.split("\n")).toHaveLength(5);
  });

  it.each([
    ["a plain value", "A=abc\n"],
    ["a # without a space before it", "A=abc#def\n"],
    ["a comment line", "# A=abc #x\nA=1\n"],
    ["only a comment after =", "A= # nothing\n"],
    ["a quoted value with ' #' and trailing spaces", "A='abc #def  '\nB=\"x #y \"\n"],
    ["balanced inner quotes", "R=it's \"ok\" isn't\n"],
    ["a real multi-line certificate", 'CERT="-----BEGIN X-----\nAAA=\n-----END X-----"\n'.replace("AAA=", "AAA")],
    ["a key named export", "export=1\n"],
    ["a quoted value with a comment after it", "A='x' # note\n"],
  ])("no warning for %s", (_name, text) => {
    expect(warningsOf(text)).toEqual([]);
  });
});
