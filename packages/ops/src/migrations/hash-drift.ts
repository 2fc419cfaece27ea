/**
 * Explains `Hashes don't match for migrations '…'` before postgres-migrations throws it: for each
 * applied row whose file hashes differently, says whether only bytes changed (CRLF, BOM), the file
 * was renamed, or the SQL was edited. Pure: the caller reads the rows and the files.
 *
 * Facts: the stored hash is sha1_hex(fileName + contents) with no normalisation (postgres-migrations
 * migration-file.js and validation.js; issue ThomWright/postgres-migrations#64 for CRLF); the row
 * keeps `id`, `name` (the part after the id) and `hash`; id 0 is the library's own table
 * migration; rows without a file are ignored by the library.
 */
import type { CheckResult } from "../preflight/types.ts";
import { migrationFileHash } from "./validate-files.ts";

/** Why a file no longer matches its applied row. */
export type DriftCause = "crlf" | "bom" | "rename" | "edited" | "missing-file";

/** A row of the `migrations` table (`SELECT id, name, hash FROM migrations`). */
export interface AppliedMigration {
  id: number;
  /** Stored name: the text after the id and separator, or the whole file name when that is empty. */
  name: string;
  /** SHA-1 hex stored when it was applied. */
  hash: string;
}

/** A migration file on disk. */
export interface MigrationFileContents {
  id: number;
  name: string;
  /** Base name, e.g. `1_init.sql`. */
  fileName: string;
  /** The file read as UTF-8 with any BOM kept (`readFile(path, "utf8")`), as the library reads it. */
  contents: string;
}

/** One applied migration that no longer matches what is on disk. */
export interface DriftFinding {
  /** Migration id. */
  id: number;
  /** The file on disk; for `missing-file`, the probable original file name. */
  file: string;
  /** The most specific cause: `rename` > `bom` > `crlf`; `edited` when nothing explains it. */
  cause: DriftCause;
  /** Every cause found together (e.g. `["rename", "crlf"]`); `[cause]` in the simple case. */
  causes: DriftCause[];
  /** The hash stored in the row. */
  expectedHash: string;
  /** The hash of the file as it is now; `undefined` for `missing-file`. */
  actualHash: string | undefined;
  /** For `rename`: the file name whose hash matches the row. */
  originalFileName?: string;
  /** One line: file, expected and actual hash, and the cause. */
  message: string;
  /** The next action. */
  fix: string;
}

const BOM = "\uFEFF";

interface ContentVariant {
  contents: string;
  /** Byte differences between the applied file and the file on disk. */
  changes: Array<"crlf-added" | "crlf-removed" | "bom-added" | "bom-removed">;
}

/** The file's contents as they may have been when applied, most likely first. */
function contentVariants(contents: string): ContentVariant[] {
  const hasBom = contents.startsWith(BOM);
  const bare = hasBom ? contents.slice(1) : contents;
  const hasCr = bare.includes("\r");
  const lineEndings: Array<[string, ContentVariant["changes"]]> = hasCr
    ? [
        [bare, []],
        [bare.replace(/\r\n/g, "\n"), ["crlf-added"]],
      ]
    : [
        [bare, []],
        [bare.replace(/\n/g, "\r\n"), ["crlf-removed"]],
      ];
  const boms: Array<[string, ContentVariant["changes"]]> = hasBom
    ? [
        [BOM, []],
        ["", ["bom-added"]],
      ]
    : [
        ["", []],
        [BOM, ["bom-removed"]],
      ];
  const variants: ContentVariant[] = [];
  for (const [prefix, bomChanges] of boms) {
    for (const [body, eolChanges] of lineEndings) variants.push({ contents: prefix + body, changes: [...bomChanges, ...eolChanges] });
  }
  return variants.sort((a, b) => a.changes.length - b.changes.length);
}

/** File names the row may have been applied under: `${id}${sep}${name}.sql`, ids zero-padded. */
function candidateFileNames(row: AppliedMigration): string[] {
  if (/\.(sql|js)$/i.test(row.name) && /^-?\d/.test(row.name)) return [row.name];
  const digits = String(row.id);
  const names: string[] = [];
  for (let width = digits.length; width <= Math.max(digits.length, 8); width++) {
    for (const sep of ["_", "-", ""]) {
      for (const ext of ["sql", "SQL"]) names.push(`${digits.padStart(width, "0")}${sep}${row.name}.${ext}`);
    }
  }
  return names;
}

function describeBytes(changes: ContentVariant["changes"]): string {
  return changes
    .map((c) =>
      c === "crlf-added"
        ? "it now has CRLF line endings"
        : c === "crlf-removed"
          ? "it was applied with CRLF line endings and now has LF"
          : c === "bom-added"
            ? "it now starts with a UTF-8 BOM"
            : "it was applied with a UTF-8 BOM that is now gone",
    )
    .join(" and ");
}

function bytesFix(file: string, changes: ContentVariant["changes"], row: AppliedMigration, actualHash: string): string {
  if (changes.includes("crlf-removed") || changes.includes("bom-removed")) {
    // The applied bytes are the ones our checks forbid; the SQL is the same, so re-record the hash.
    return `the SQL is unchanged; record the new bytes instead of restoring CRLF/BOM: UPDATE migrations SET hash = '${actualHash}' WHERE id = ${row.id} AND hash = '${row.hash}'`;
  }
  const steps: string[] = [];
  if (changes.includes("bom-added")) steps.push(`remove the BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' ${file})`);
  if (changes.includes("crlf-added"))
    steps.push(`convert ${file} to LF (sed -i 's/\\r$//' ${file}) and add "*.sql text eol=lf" to .gitattributes`);
  return `restore the original bytes: ${steps.join(", then ")}`;
}

function explainOne(row: AppliedMigration, file: MigrationFileContents): DriftFinding | undefined {
  const actualHash = migrationFileHash(file.fileName, file.contents);
  if (actualHash === row.hash) return undefined;
  const hashes = `expected ${row.hash}, actual ${actualHash}`;
  const base = { id: row.id, file: file.fileName, expectedHash: row.hash, actualHash };
  const variants = contentVariants(file.contents);
  const names = [file.fileName, ...candidateFileNames(row).filter((n) => n !== file.fileName)];
  for (const fileName of names) {
    for (const variant of variants) {
      if (fileName === file.fileName && variant.changes.length === 0) continue;
      if (migrationFileHash(fileName, variant.contents) !== row.hash) continue;
      const renamed = fileName !== file.fileName;
      const byteCauses: DriftCause[] = [
        ...(variant.changes.some((c) => c.startsWith("bom")) ? (["bom"] as const) : []),
        ...(variant.changes.some((c) => c.startsWith("crlf")) ? (["crlf"] as const) : []),
      ];
      const causes: DriftCause[] = renamed ? ["rename", ...byteCauses] : byteCauses;
      const cause = causes[0]!;
      const what = [renamed ? `it was renamed from ${fileName}` : "", describeBytes(variant.changes)].filter(Boolean).join(" and ");
      const fixes = [
        renamed ? `rename back to ${fileName} (git mv ${file.fileName} ${fileName})` : "",
        variant.changes.length > 0
          ? bytesFix(renamed ? fileName : file.fileName, variant.changes, row, migrationFileHash(fileName, file.contents))
          : "",
      ].filter(Boolean);
      return {
        ...base,
        cause,
        causes,
        ...(renamed ? { originalFileName: fileName } : {}),
        message: `${file.fileName} (migration ${row.id}) no longer matches its applied hash (${hashes}): ${what}; the SQL is the same`,
        fix: fixes.join("; then "),
      };
    }
  }
  const storedNameChanged = file.name !== row.name;
  return {
    ...base,
    cause: "edited",
    causes: ["edited"],
    message: `${file.fileName} (migration ${row.id}) was edited after it was applied (${hashes})${storedNameChanged ? `; it was also renamed (applied as "${row.name}", now "${file.name}")` : ""}`,
    fix: `never edit an applied migration; add a new one: restore ${file.fileName} from git (git log -p -- ${file.fileName}) and put the change in a new migration`,
  };
}

/**
 * Compares applied rows with the files on disk, as postgres-migrations does before migrating, and
 * explains each mismatch. Returns one finding per applied id whose file hashes differently
 * (`crlf`, `bom`, `rename`, or `edited`), and one `missing-file` finding per applied id with no
 * file. Row id 0 (the library's own migration) is skipped. `.js` files are hashed from their text,
 * not from their generated SQL, so they can show as `edited`. Never throws.
 */
export function explainHashDrift(applied: readonly AppliedMigration[], files: readonly MigrationFileContents[]): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const row of [...applied].sort((a, b) => a.id - b.id)) {
    if (row.id === 0) continue;
    const matching = files.filter((f) => f.id === row.id);
    if (matching.length === 0) {
      const guess = candidateFileNames(row)[0]!;
      findings.push({
        id: row.id,
        file: guess,
        cause: "missing-file",
        causes: ["missing-file"],
        expectedHash: row.hash,
        actualHash: undefined,
        message: `migration ${row.id} ("${row.name}") is recorded as applied (hash ${row.hash}) but no file with id ${row.id} is in the migrations folder`,
        fix: `restore ${guess} from git (git log --diff-filter=D --name-only -- '*.sql'); postgres-migrations ignores a row without a file, but a new file with id ${row.id} would be checked against this row`,
      });
      continue;
    }
    for (const file of matching) {
      const finding = explainOne(row, file);
      if (finding) findings.push(finding);
    }
  }
  return findings;
}

/** Drift findings as preflight results: each one `fail`, id `migrations.hash`, `where` = the file. */
export function driftFindingsToChecks(findings: readonly DriftFinding[], dir?: string): CheckResult[] {
  return findings.map((f) => ({
    id: "migrations.hash",
    status: "fail" as const,
    message: f.message,
    where: dir === undefined ? f.file : `${dir.replace(/\/+$/, "")}/${f.file}`,
    fix: f.fix,
  }));
}
