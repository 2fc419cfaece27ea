/**
 * Offline checks of a postgres-migrations folder: everything postgres-migrations 5.3.0 would refuse
 * (or silently get wrong) is found here, before any database connection.
 *
 * Facts come from the library's own code (node_modules/postgres-migrations/dist:
 * files-loader.js, file-name-parser.js, migration-file.js, validation.js, run-migration.js) and
 * its README ("File name", "Simple ordering", "Each migration runs in a transaction"). Rules
 * that are ours, not the library's, say so.
 */
import { createHash } from "node:crypto";
import type { Dirent } from "node:fs";
import { readFileSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { MigrationError } from "../errors.ts";
import type { CheckResult } from "../preflight/types.ts";

/** files-loader.js `isValidFile`: only these names are loaded (tested on the full path). */
const LOADED_RE = /\.(sql|js)$/i;
/** file-name-parser.js, verbatim (the unescaped `.` and the optional `-` sign are the library's). */
const LIBRARY_NAME_RE = /^(-?\d+)[-_]?(.*).(sql|js)$/i;
/** The exact text run-migration.js looks for with `includes()`. */
export const DISABLE_TRANSACTION_DIRECTIVE = "-- postgres-migrations disable-transaction";
/** `migrations.name` is `varchar(100)`: characters, not bytes. */
const MAX_NAME_CHARS = 100;
/** Ids with 8 or more digits (YYYYMMDD…, unix seconds) are timestamp-style, not a sequence. */
const TIMESTAMP_ID_MIN = 10_000_000;
const GITATTRIBUTES_FIX = 'add "*.sql text eol=lf" to .gitattributes';

/** One migration file as postgres-migrations sees it. */
export interface MigrationFileEntry {
  /** Numeric id, `parseInt` of the leading digits (`0001` → 1). */
  id: number;
  /** The stored `migrations.name`: text between separator and extension, or the whole file name. */
  name: string;
  /** Base name, e.g. `1_init.sql`; part of the hash. */
  fileName: string;
  /** `join(dir, fileName)`. */
  path: string;
  /** The file as UTF-8 text, when {@link inspectMigrationFolder} already read it (the hash check reuses it). */
  contents?: string;
}

/** Parses a file name the way file-name-parser.js does; `undefined` when the library would throw. */
export function parseMigrationFileName(fileName: string): { id: number; name: string; type: "sql" | "js" } | undefined {
  const m = LIBRARY_NAME_RE.exec(fileName);
  if (!m) return undefined;
  const [, id = "", name = "", type = ""] = m;
  return {
    id: Number.parseInt(id, 10),
    name: name === "" ? fileName : name,
    type: type.toLowerCase() === "js" ? "js" : "sql",
  };
}

/**
 * The hash postgres-migrations stores in `migrations.hash`: SHA-1 hex of `fileName + contents`,
 * UTF-8, no line-ending or BOM normalisation (migration-file.js). `contents` is the file read as
 * UTF-8 with any BOM kept as U+FEFF (what `readFile(path, "utf8")` returns).
 */
export function migrationFileHash(fileName: string, contents: string): string {
  return createHash("sha1")
    .update(fileName + contents, "utf8")
    .digest("hex");
}

/**
 * The files postgres-migrations would load from `dir` (not recursive), sorted by id, for the
 * migrate step. Does not check ids or bytes: run {@link validateMigrationFiles} first.
 * @throws {MigrationError} when `dir` cannot be read, or a loaded file's name does not start with an
 *   integer id (the library's `Invalid file name`).
 */
export async function listMigrationFiles(dir: string): Promise<MigrationFileEntry[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new MigrationError(`Cannot read the migrations folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      where: dir,
      fix: "create the folder or point the migrate step at the right one",
      cause: err,
    });
  }
  const out: MigrationFileEntry[] = [];
  for (const entry of entries) {
    if (!LOADED_RE.test(entry.name) || entry.isDirectory()) continue;
    const parsed = parseMigrationFileName(entry.name);
    if (!parsed) {
      throw new MigrationError(`Invalid file name: '${entry.name}' (postgres-migrations needs an integer id first)`, {
        where: join(dir, entry.name),
        fix: "rename it to <id>_<name>.sql, or move it out of the migrations folder",
      });
    }
    out.push({ id: parsed.id, name: parsed.name, fileName: entry.name, path: join(dir, entry.name) });
  }
  return out.sort((a, b) => a.id - b.id || a.fileName.localeCompare(b.fileName));
}

/** One statement found by {@link splitSqlStatements}. */
export interface SqlStatement {
  /** The statement text as written (without the `;`). */
  text: string;
  /** `text` with comments and the contents of quoted strings/identifiers blanked (same length). */
  code: string;
  /** 1-based line of the statement's first token. */
  line: number;
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG_RE = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/**
 * Splits SQL on top-level `;`, respecting `'…'` (and `E'…'` backslash escapes), `"…"`, `$tag$…$tag$`,
 * `-- …` and nested `/* … *\/` comments. Statements that hold only comments/whitespace are dropped.
 * A simple splitter: `BEGIN ATOMIC … END` function bodies are split at their inner `;`.
 */
export function splitSqlStatements(sql: string): SqlStatement[] {
  const statements: SqlStatement[] = [];
  let code = "";
  let start = 0;
  let i = 0;
  // Lines are counted forward from the last statement, so a file of many statements stays linear.
  let line = 1;
  let countedTo = 0;
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  const flush = (end: number) => {
    const text = sql.slice(start, end);
    const firstToken = code.search(/\S/);
    if (firstToken >= 0) {
      const at = start + firstToken;
      for (; countedTo < at; countedTo++) if (sql.charCodeAt(countedTo) === 10) line++;
      statements.push({ text, code, line });
    }
    code = "";
    start = end + 1;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end === -1 ? sql.length : end;
      code += blank(sql.slice(i, stop));
      i = stop;
    } else if (c === "/" && next === "*") {
      let depth = 0;
      let j = i;
      while (j < sql.length) {
        if (sql[j] === "/" && sql[j + 1] === "*") {
          depth++;
          j += 2;
        } else if (sql[j] === "*" && sql[j + 1] === "/") {
          depth--;
          j += 2;
          if (depth === 0) break;
        } else j++;
      }
      code += blank(sql.slice(i, j));
      i = j;
    } else if (c === "'" || c === '"') {
      const prev = sql[i - 1];
      const escapes = c === "'" && (prev === "E" || prev === "e") && !IDENT_CHAR.test(sql[i - 2] ?? " ");
      let j = i + 1;
      while (j < sql.length) {
        if (escapes && sql[j] === "\\") j += 2;
        else if (sql[j] === c && sql[j + 1] === c) j += 2;
        else if (sql[j] === c) break;
        else j++;
      }
      if (j < sql.length) {
        code += c + blank(sql.slice(i + 1, j)) + c;
        i = j + 1;
      } else {
        code += c + blank(sql.slice(i + 1));
        i = sql.length;
      }
    } else if (c === "$" && !IDENT_CHAR.test(sql[i - 1] ?? " ")) {
      DOLLAR_TAG_RE.lastIndex = i;
      const tag = DOLLAR_TAG_RE.exec(sql)?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        if (close === -1) {
          code += tag + blank(sql.slice(i + tag.length));
          i = sql.length;
        } else {
          code += tag + blank(sql.slice(i + tag.length, close)) + tag;
          i = close + tag.length;
        }
      } else {
        code += c;
        i++;
      }
    } else if (c === ";") {
      flush(i);
      i++;
    } else {
      code += c;
      i++;
    }
  }
  flush(sql.length);
  return statements;
}

/** What makes a statement impossible inside a transaction block, or `undefined`. */
function nonTransactionalLabel(statement: SqlStatement): string | undefined {
  const tokens: string[] = statement.code.toUpperCase().match(/[A-Z_][A-Z0-9_$]*/g) ?? [];
  const [first = "", second = ""] = tokens;
  const concurrently = tokens.indexOf("CONCURRENTLY");
  // REFRESH MATERIALIZED VIEW CONCURRENTLY is allowed in a transaction; the others are not.
  if (concurrently >= 0 && first !== "REFRESH") return tokens.slice(0, Math.min(concurrently + 1, 5)).join(" ");
  if (first === "VACUUM") return "VACUUM";
  if ((first === "CREATE" || first === "DROP") && (second === "DATABASE" || second === "TABLESPACE")) return `${first} ${second}`;
  if (first === "ALTER" && second === "SYSTEM") return "ALTER SYSTEM";
  return undefined;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let k = 0; k < index; k++) if (text.charCodeAt(k) === 10) line++;
  return line;
}

interface Loaded extends MigrationFileEntry {
  type: "sql" | "js";
}

/** The checks on one `.sql` file's bytes and statements. */
function checkSqlBytes(path: string, file: string, bytes: Buffer): CheckResult[] {
  const results: CheckResult[] = [];
  const hasBom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (hasBom) {
    results.push({
      id: "migrations.bom",
      status: "fail",
      message: `${file} starts with a UTF-8 BOM (EF BB BF); postgres-migrations hashes it as part of the file, so the same migration hashes differently on other machines`,
      where: `${path}:1`,
      fix: `save it as UTF-8 without BOM (sed -i '1s/^\\xEF\\xBB\\xBF//' ${path}); ${GITATTRIBUTES_FIX} to pin line endings too`,
    });
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    results.push({
      id: "migrations.encoding",
      status: "fail",
      message: `${file} is not valid UTF-8; postgres-migrations reads it as UTF-8 and would run and hash replacement characters`,
      where: path,
      fix: `re-save ${file} as UTF-8 (iconv -f <encoding> -t UTF-8)`,
    });
    text = bytes.toString("utf8");
  }
  const cr = text.indexOf("\r");
  if (cr >= 0) {
    const line = lineOf(text, cr);
    const what = text[cr + 1] === "\n" ? "CRLF line endings" : "a carriage return (\\r)";
    results.push({
      id: "migrations.crlf",
      status: "fail",
      message: `${file} has ${what} (first at line ${line}); postgres-migrations hashes the raw bytes, so a CRLF checkout and an LF checkout of the same migration hash differently ("Hashes don't match")`,
      where: `${path}:${line}`,
      fix: `${GITATTRIBUTES_FIX}, then convert the file to LF (git add --renormalize . or sed -i 's/\\r$//' ${path})`,
    });
  }
  if (!text.includes(DISABLE_TRANSACTION_DIRECTIVE) && /--\s*postgres-migrations\s+disable[-_ ]?transaction/i.test(text)) {
    const at = text.search(/--\s*postgres-migrations\s+disable[-_ ]?transaction/i);
    results.push({
      id: "migrations.transaction",
      status: "fail",
      message: `${file} has a disable-transaction directive that postgres-migrations does not recognise; it matches the exact text "${DISABLE_TRANSACTION_DIRECTIVE}"`,
      where: `${path}:${lineOf(text, at)}`,
      fix: `write the directive exactly as "${DISABLE_TRANSACTION_DIRECTIVE}"`,
    });
  }
  const statements = splitSqlStatements(text.replace(/^\uFEFF/, ""));
  if (statements.length === 0) {
    results.push({
      id: "migrations.empty-file",
      status: "warn",
      message: `${file} holds no SQL statement; it would be recorded as applied without doing anything`,
      where: path,
      fix: `add the migration's SQL to ${file}, or delete it before it is applied`,
    });
  }
  const directive = text.includes(DISABLE_TRANSACTION_DIRECTIVE);
  for (const statement of statements) {
    const label = nonTransactionalLabel(statement);
    if (!label) continue;
    const where = `${path}:${statement.line}`;
    if (!directive) {
      results.push({
        id: "migrations.transaction",
        status: "fail",
        message: `${label} cannot run inside a transaction block, and ${file} has no "${DISABLE_TRANSACTION_DIRECTIVE}" line, so postgres-migrations wraps the file in one`,
        where,
        fix: `add "${DISABLE_TRANSACTION_DIRECTIVE}" as the first line of ${file} and keep this statement alone in the file`,
      });
    } else if (statements.length > 1) {
      results.push({
        id: "migrations.transaction",
        status: "fail",
        message: `${file} has ${statements.length} statements; even with disable-transaction postgres-migrations sends the file as one query, which PostgreSQL runs as one implicit transaction, so ${label} fails`,
        where,
        fix: `move the statement at ${file}:${statement.line} into its own migration file (one statement plus the directive)`,
      });
    }
    if (/^CREATE (UNIQUE )?INDEX CONCURRENTLY$/.test(label) && !/\bIF\s+NOT\s+EXISTS\b/i.test(statement.code)) {
      results.push({
        id: "migrations.transaction",
        status: "warn",
        message: `${label} without IF NOT EXISTS: if the run dies after the index is built but before its row is saved, the retry fails with "already exists"`,
        where,
        fix: "write CREATE INDEX CONCURRENTLY IF NOT EXISTS (the postgres-migrations README advice for non-transactional index builds)",
      });
    }
  }
  return results;
}

/** `0000_init.sql` renumbered to `id`, keeping the digit width: `0001_init.sql`. */
function withId(fileName: string, id: number): string {
  const digits = /^-?(\d+)/.exec(fileName)?.[1] ?? "";
  return `${String(id).padStart(digits.length, "0")}${fileName.replace(/^-?\d+/, "")}`;
}

/** "a → b" for each file whose id is not its place in 1..n (files sorted by id, then name). */
function proposeRenames(files: Loaded[]): string {
  const sorted = files.slice().sort((a, b) => a.id - b.id || a.fileName.localeCompare(b.fileName));
  const renames = sorted.flatMap((f, index) => (f.id === index + 1 ? [] : [`${f.fileName} → ${withId(f.fileName, index + 1)}`]));
  return renames.length <= 5 ? renames.join(", ") : `${renames.slice(0, 5).join(", ")}, … (${renames.length} files)`;
}

/** `items` grouped by `key`, in first-seen order; each item is appended once (O(n)). */
function groupBy<K, T>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** The id rules: ids are exactly 1..N (validation.js, `id === index` after the built-in id 0). */
function checkIds(dir: string, loaded: Loaded[]): CheckResult[] {
  const results: CheckResult[] = [];
  const sequence = loaded.filter((f) => f.id < TIMESTAMP_ID_MIN);
  const belowOne = loaded.filter((f) => f.id < 1);
  if (belowOne.length > 0) {
    results.push({
      id: "migrations.ids",
      status: "fail",
      message: `ids start at 1: ${belowOne.map((f) => `${f.fileName} has id ${f.id}`).join(", ")}; id 0 is postgres-migrations' own table migration (library error: Found a non-consecutive migration ID)`,
      where: belowOne.map((f) => f.path).join(", "),
      fix: `renumber from 1 before anything is applied: ${proposeRenames(sequence)}`,
    });
  }
  const timestamps = loaded.filter((f) => f.id >= TIMESTAMP_ID_MIN);
  if (timestamps.length > 0) {
    results.push({
      id: "migrations.ids",
      status: "fail",
      message: `ids must be consecutive from 1; timestamp-style ids are not supported (${timestamps.map((f) => f.fileName).join(", ")})`,
      where: timestamps.map((f) => f.path).join(", "),
      fix: "rename the files to a sequence (1_<name>.sql, 2_<name>.sql, …) in the order they must run",
    });
  }
  const byId = groupBy(loaded, (f) => f.id);
  for (const [id, files] of [...byId].sort((a, b) => a[0] - b[0])) {
    if (files.length < 2) continue;
    const upDown = files.some((f) => /(^|[._-])(up|down)$/i.test(f.name));
    results.push({
      id: "migrations.ids",
      status: "fail",
      message: `duplicate id ${id}: ${files.map((f) => f.fileName).join(", ")}${upDown ? "; down migrations are not supported (postgres-migrations runs every file, forward only)" : ""}`,
      where: files.map((f) => f.path).join(", "),
      fix: upDown
        ? "delete the down file(s) and roll forward with a new migration when a change must be undone"
        : `give each file its own id: keep one as ${id} and move the others after the last id`,
    });
  }
  const present = new Set(sequence.filter((f) => f.id >= 1).map((f) => f.id));
  // The highest id once (a loop, not Math.max(...present): no spread of thousands of arguments).
  let highest = 0;
  for (const id of present) if (id > highest) highest = id;
  const missing: number[] = [];
  for (let id = 1; id <= highest; id++) if (!present.has(id)) missing.push(id);
  if (missing.length > 0) {
    const shown =
      missing.length === 1
        ? `missing id ${missing[0]}`
        : missing.length <= 5
          ? `missing ids ${missing.join(", ")}`
          : `missing ids ${missing.slice(0, 5).join(", ")}, … (${missing.length} in all)`;
    const unique = [...present].map((id) => byId.get(id)![0]!);
    results.push({
      id: "migrations.ids",
      status: "fail",
      message: `${shown}: ids must be consecutive from 1 (postgres-migrations fails with Found a non-consecutive migration ID)`,
      where: dir,
      fix: `restore the deleted file, or close the gap by renaming files that are not applied yet: ${proposeRenames(unique)}`,
    });
  }
  return results;
}

/** The stored-name rules: `migrations.name varchar(100) UNIQUE` (0_create-migrations-table.sql). */
function checkNames(loaded: Loaded[]): CheckResult[] {
  const results: CheckResult[] = [];
  for (const f of loaded) {
    const length = [...f.name].length;
    if (length > MAX_NAME_CHARS) {
      results.push({
        id: "migrations.name",
        status: "fail",
        message: `the stored name of ${f.fileName} is ${length} characters; migrations.name is varchar(${MAX_NAME_CHARS}), so saving it fails after the SQL has run`,
        where: f.path,
        fix: `shorten the part after the id to at most ${MAX_NAME_CHARS} characters`,
      });
    }
  }
  for (const [name, files] of groupBy(loaded, (f) => f.name)) {
    if (files.length < 2) continue;
    results.push({
      id: "migrations.name",
      status: "fail",
      message: `stored name "${name}" is used by ${files.map((f) => f.fileName).join(", ")}; migrations.name is UNIQUE, so the second one fails after its SQL has run`,
      where: files.map((f) => f.path).join(", "),
      fix: "give each migration a distinct name after its id",
    });
  }
  return results;
}

/**
 * Checks the migrations folder `dir` (not recursive) against every postgres-migrations 5.3.0 rule
 * and ours, without a database. Each problem is one result naming the rule, `where` (`file` or
 * `file:line`) and a fix; if nothing fails, a `pass` summary is included. Never throws for folder
 * problems (a missing or empty folder is a `fail` result).
 *
 * Library rules: only `*.sql`/`*.js` (any case) are loaded; a loaded name must match
 * `^(-?\d+)[-_]?(.*)\.(sql|js)$` (`Invalid file name`); ids are exactly 1..N; the stored name is
 * varchar(100) UNIQUE; CONCURRENTLY and friends need `-- postgres-migrations disable-transaction`
 * and a one-statement file. Our rules: no `.js` migrations; no BOM, no `\r`, valid UTF-8; other files
 * warn (dotfiles such as `.gitattributes` are left alone).
 */
export async function validateMigrationFiles(dir: string): Promise<CheckResult[]> {
  return (await inspectMigrationFolder(dir)).results;
}

/** What {@link inspectMigrationFolder} found: the check results and the files the library would load. */
export interface MigrationFolder {
  /** Exactly what {@link validateMigrationFiles} returns. */
  results: CheckResult[];
  /** The loaded files sorted by id, then name (as {@link listMigrationFiles}); meaningful only when no result fails. */
  files: MigrationFileEntry[];
}

/**
 * {@link validateMigrationFiles} and {@link listMigrationFiles} from one read of `dir`, so a step
 * that needs both (migrate) reads and checks the folder once. O(n) in the number of files plus
 * their bytes. Never throws for folder problems (they are `fail` results, with `files` empty).
 */
export async function inspectMigrationFolder(dir: string): Promise<MigrationFolder> {
  let entries: Dirent[];
  try {
    if (!(await stat(dir)).isDirectory()) {
      return {
        files: [],
        results: [
          {
            id: "migrations.folder",
            status: "fail",
            message: `${dir} is not a folder`,
            where: dir,
            fix: "point the migrate step at the migrations folder",
          },
        ],
      };
    }
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      files: [],
      results: [
        {
          id: "migrations.folder",
          status: "fail",
          message:
            code === "ENOENT"
              ? `the migrations folder ${dir} does not exist`
              : `cannot read the migrations folder ${dir} (${code ?? String(err)})`,
          where: dir,
          fix: "create the folder with 1_<name>.sql in it, or point the migrate step at the right folder",
        },
      ],
    };
  }

  const results: CheckResult[] = [];
  const loaded: Loaded[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory() === true);
    if (isDir) {
      if (LOADED_RE.test(entry.name)) {
        results.push({
          id: "migrations.file-type",
          status: "fail",
          message: `${entry.name} is a folder whose name ends in .sql/.js; postgres-migrations would try to read it as a migration file (EISDIR)`,
          where: path,
          fix: "rename the folder or move it out of the migrations folder",
        });
      }
      continue; // sub-folders are not read
    }
    if (!LOADED_RE.test(entry.name)) {
      if (entry.name.startsWith(".")) continue;
      const looksLikeMigration = /^\d/.test(entry.name);
      results.push({
        id: "migrations.file-type",
        status: "warn",
        message: looksLikeMigration
          ? `${entry.name} looks like a migration but is not loaded: postgres-migrations only loads .sql and .js files`
          : `${entry.name} is not a migration; postgres-migrations ignores files not ending in .sql or .js`,
        where: path,
        fix: looksLikeMigration
          ? `rename it to end in .sql if it must run, or move it out of ${dir}`
          : `move it out of ${dir} to keep the folder to migrations only`,
      });
      continue;
    }
    const parsed = parseMigrationFileName(entry.name);
    if (/\.js$/i.test(entry.name)) {
      results.push({
        id: "migrations.file-type",
        status: "fail",
        message: `${entry.name} is a .js file in the migrations folder: the library would load it as a migration (require() it and run its generateSql())`,
        where: path,
        fix: `move ${entry.name} out of ${dir}; write migrations as .sql files`,
      });
      if (parsed) loaded.push({ id: parsed.id, name: parsed.name, fileName: entry.name, path, type: "js" });
      continue;
    }
    if (!parsed) {
      results.push({
        id: "migrations.file-name",
        status: "fail",
        message: `Invalid file name: '${entry.name}'; every .sql file is loaded as a migration and must start with its integer id`,
        where: path,
        fix: `rename it to <id>_<name>.sql, or to a name not ending in .sql if it is not a migration`,
      });
      continue;
    }
    const file: Loaded = { id: parsed.id, name: parsed.name, fileName: entry.name, path, type: "sql" };
    loaded.push(file);
    let bytes: Buffer;
    try {
      // One synchronous read per file: thousands of small async reads cost far more in
      // thread-pool round trips than the reads themselves (docs/benchmarks.md).
      bytes = readFileSync(path);
    } catch (err) {
      results.push({
        id: "migrations.file-name",
        status: "fail",
        message: `cannot read ${entry.name} (${(err as NodeJS.ErrnoException).code ?? String(err)}); postgres-migrations would fail on it too`,
        where: path,
        fix: `fix or remove ${entry.name} (a dangling symlink or missing permission)`,
      });
      continue;
    }
    file.contents = bytes.toString("utf8");
    results.push(...checkSqlBytes(path, entry.name, bytes));
  }

  if (loaded.length === 0 && !results.some((r) => r.status === "fail")) {
    results.unshift({
      id: "migrations.folder",
      status: "fail",
      message: `no migrations in ${dir}: no file ending in .sql`,
      where: dir,
      fix: "add 1_<name>.sql, or point the migrate step at the right folder",
    });
  }
  results.push(...checkIds(dir, loaded), ...checkNames(loaded));
  if (!results.some((r) => r.status === "fail")) {
    results.unshift({
      id: "migrations.files",
      status: "pass",
      message: `${loaded.length === 1 ? "1 migration (id 1)" : `${loaded.length} migrations (ids 1..${loaded.length})`} in ${dir} ${loaded.length === 1 ? "follows" : "follow"} the postgres-migrations 5.3.0 rules`,
      where: dir,
    });
  }
  const files = loaded
    .sort((a, b) => a.id - b.id || a.fileName.localeCompare(b.fileName))
    .map(({ id, name, fileName, path, contents }) => ({ id, name, fileName, path, ...(contents === undefined ? {} : { contents }) }));
  return { results, files };
}
