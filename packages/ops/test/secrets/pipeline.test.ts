// Secrets file → our dialect → flyctl stdin payload → flyctl's parser: the field cases end to end.
import { describe, expect, it } from "vitest";
import { SecretsError } from "../../src/errors.ts";
import { parseSecretsFile } from "../../src/secrets/dotenv-dialect.ts";
import { parseFlyImport, serializeForFlyImport } from "../../src/secrets/fly-import-format.ts";

/** What the stand-in flyctl would store after `fly secrets import` reads our payload for `file`. */
function flyStores(file: string | Buffer): { stored: Record<string, string>; payload: string; warnings: string[] } {
  const { entries, warnings } = parseSecretsFile(file);
  const payload = serializeForFlyImport(entries);
  const parsed = parseFlyImport(Buffer.from(payload, "utf8").toString("utf8"));
  expect(parsed.droppedUnterminated).toEqual([]);
  expect(parsed.stoppedAtLine).toBeNull();
  return { stored: Object.fromEntries(parsed.pairs), payload, warnings };
}

describe("field cases end to end", () => {
  it("C-01: one-line triple quotes arrive as x, y, z", () => {
    expect(flyStores('A="""x"""\nB="""y"""\nC=z\n').stored).toEqual({ A: "x", B: "y", C: "z" });
    expect(flyStores('A="""x""" # note\nB = """ y """\n').stored).toEqual({ A: "x", B: " y " });
  });

  it('C-01: an opening """ never closed is an error naming key and line, not a silent drop', () => {
    const parse = () => parseSecretsFile('A=1\nB="""never closed\nC=z\n');
    expect(parse).toThrow(SecretsError);
    expect(parse).toThrow('.env.production:2: the """ block of B opened on line 2 is never closed');
  });

  it('C-02: escaped and real-line certificates arrive as multi-line values, sent as """ blocks', () => {
    const cert = "-----BEGIN X-----\nAAA\n-----END X-----\n";
    const { stored, payload } = flyStores(
      'CERT="-----BEGIN X-----\\nAAA\\n-----END X-----\\n"\nCERT2="-----BEGIN X-----\nAAA\n-----END X-----"\n',
    );
    expect(stored).toEqual({ CERT: cert, CERT2: "-----BEGIN X-----\nAAA\n-----END X-----" });
    expect(payload).toBe('CERT="""-----BEGIN X-----\nAAA\n-----END X-----\n"""\nCERT2="""-----BEGIN X-----\nAAA\n-----END X-----"""\n');
    expect(payload).not.toContain("\\n");
  });

  it("C-04: BOM + CRLF file gives both keys, no \\r, and a warning", () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("DATABASE_URL=postgresql://h/db\r\nAPI_TOKEN=abc\r\n")]);
    const { stored, payload, warnings } = flyStores(bytes);
    expect(stored).toEqual({ DATABASE_URL: "postgresql://h/db", API_TOKEN: "abc" });
    expect(payload).toBe("DATABASE_URL=postgresql://h/db\nAPI_TOKEN=abc\n");
    expect(warnings).toHaveLength(2);
    expect(warnings.join("\n")).toMatch(/BOM[\s\S]*CRLF/);
  });

  it("C-06: export lines lose export; flyctl never sees `export X`", () => {
    const { stored, payload } = flyStores('export FLY_APP_CLIENT=web\nexport  DATABASE_URL="postgresql://h/db"\n');
    expect(stored).toEqual({ FLY_APP_CLIENT: "web", DATABASE_URL: "postgresql://h/db" });
    expect(payload).not.toMatch(/export/);
  });

  it("C-07: shell-hostile values arrive exactly: no $ expansion, spaces and two lines kept", () => {
    const { stored, payload } = flyStores(
      'ADMIN_HASH=$2b$10$abcdefghijklmnopqrstuv\nGREETING=hello world\nTWO_LINES="first line\nsecond $line"\n',
    );
    expect(stored).toEqual({
      ADMIN_HASH: "$2b$10$abcdefghijklmnopqrstuv",
      GREETING: "hello world",
      TWO_LINES: "first line\nsecond $line",
    });
    expect(payload).toBe('ADMIN_HASH=$2b$10$abcdefghijklmnopqrstuv\nGREETING=hello world\nTWO_LINES="""first line\nsecond $line"""\n');
  });

  it("sends values flyctl would mangle in a protected form: #, leading spaces, quotes", () => {
    const { stored } = flyStores("A='ab#c'\nB=\"  padded\"\nC='\"'\nD=\"'\"\nE='a\"#b'\nF=\"'quoted'\"\n");
    expect(stored).toEqual({ A: "ab#c", B: "  padded", C: '"', D: "'", E: 'a"#b', F: "'quoted'" });
  });

  it("refuses, naming the key, a file value flyctl cannot carry", () => {
    const { entries } = parseSecretsFile('KEY="first\nmiddle\\"\\"\\"\nlast"\n');
    expect(() => serializeForFlyImport(entries)).toThrow(
      /cannot send secret KEY to `fly secrets import`: line 2 of the multi-line value ends with """/,
    );
  });

  it("property: any value written as an escaped double-quoted line reaches flyctl exactly, or is refused", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const fragments = ["a", " ", "\t", "#", " #", '"', '"""', "'", "$", "\\", "=", "\n", "é", "🔑", "export "];
    const quoteValue = (v: string) =>
      `"${v
        .replace(/[\\"$]/g, "\\$&")
        .replace(/\n/g, "\\n")
        .replace(/\t/g, "\\t")}"`;
    let sent = 0;
    for (let i = 0; i < 2000; i++) {
      let value = "";
      for (let n = Math.floor(random() * 10); n > 0; n--) value += fragments[Math.floor(random() * fragments.length)];
      const { entries } = parseSecretsFile(`K=${quoteValue(value)} # comment\n`);
      expect(entries[0]?.value.reveal()).toBe(value);
      let payload: string;
      try {
        payload = serializeForFlyImport(entries);
      } catch (error) {
        expect((error as Error).message).toMatch(/^cannot send secret K to/);
        continue;
      }
      expect(parseFlyImport(payload).pairs.get("K")).toBe(value);
      sent++;
    }
    expect(sent).toBeGreaterThan(1800);
  });
});
