import { copyFileSync, chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { SecretsError } from "../errors.ts";
import { parseSecretsFile } from "./dotenv-dialect.ts";
import type { Secret } from "./secret.ts";

/**
 * Replaces one key's value in a secrets file, atomically (temp file + rename, mode 0600), keeping
 * the previous file as `<file>.bak` (mode 0600). Only single-line entries are rewritten; the
 * other lines stay byte for byte.
 * @returns the backup path.
 * @throws {SecretsError} when the key is not in the file or its entry spans lines.
 */
export function replaceSecretInFile(file: string, key: string, value: Secret, repoRoot: string): string {
  const shown = relative(repoRoot, file) || file;
  if (!existsSync(file))
    throw new SecretsError(`${shown} does not exist`, { where: shown, fix: "Rotation rewrites the secrets file; create it first." });
  const bytes = readFileSync(file);
  const entry = parseSecretsFile(bytes, shown).entries.find((e) => e.key === key);
  if (!entry) throw new SecretsError(`${key} is not in ${shown}`, { where: shown, fix: `Add ${key} to ${shown} first.` });
  const text = bytes.toString("utf8");
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  const idx = entry.line - 1;
  const line = lines[idx] ?? "";
  const m = line.match(/^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=)/);
  if (!m || m[2] !== key || entry.value.reveal().includes("\n")) {
    throw new SecretsError(`${key} at ${shown}:${entry.line} spans several lines; rotate it by hand`, {
      where: `${shown}:${entry.line}`,
      fix: "Edit the file, then run `pnpm ops:secrets sync`.",
    });
  }
  lines[idx] = `${m[1]}${key}${m[3]}${value.reveal()}`;
  const backup = `${file}.bak`;
  copyFileSync(file, backup);
  chmodSync(backup, 0o600);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, lines.join(eol), { mode: 0o600 });
  renameSync(tmp, file);
  return backup;
}
