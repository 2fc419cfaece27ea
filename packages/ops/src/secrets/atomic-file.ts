import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Secret } from "./secret.ts";

/**
 * Writes `KEY=value` lines to `path` with mode 0600 through a temp file and a rename, so a crash
 * never leaves a half-written secrets file. Values must be single-line and need no quoting
 * (generated base64url values); anything else is refused rather than written ambiguously.
 * @throws {Error} naming the key (never the value) when a value cannot be written plainly.
 */
export function writeSecretFileAtomic(path: string, values: Map<string, Secret>, header: string): void {
  const lines = [`# ${header}`];
  for (const [key, value] of values) {
    if (!/^[A-Za-z0-9_\-.~+/=:@%]*$/.test(value.reveal())) throw new Error(`value of ${key} cannot be written unquoted`);
    lines.push(`${key}=${value.reveal()}`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${lines.join("\n")}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
