import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import { RunStateError } from "../errors.ts";

/** errno codes that mean the machine refused a write: a read-only or full file system, missing rights. */
const ENVIRONMENT_CODES = new Set(["EROFS", "EACCES", "EPERM", "ENOSPC", "EDQUOT"]);

/** Whether `err` is a Node file system error the environment causes (not a bug). */
export function isEnvironmentFsError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && ENVIRONMENT_CODES.has((err as NodeJS.ErrnoException).code ?? "");
}

/**
 * A file system refusal as an OpsError: what could not be written (the path), why in words, and
 * the fix (a writable `OPS_STATE_DIR`, free space, rights). Anything else is returned unchanged.
 * @param path the file or folder written, when the error itself does not name one.
 */
export function environmentFsError(err: unknown, path?: string): unknown {
  if (!isEnvironmentFsError(err)) {
    // A recursive mkdir on a read-only file system reports ENOENT: ask the nearest existing folder why.
    const e = err as NodeJS.ErrnoException;
    if (e?.code !== "ENOENT" || e.syscall !== "mkdir" || !e.path) return err;
    const cause = whyNotWritable(e.path);
    return cause ? environmentFsError(cause, e.path) : err;
  }
  const where = err.path ?? path ?? "a state file";
  const folder = err.path || path ? dirname(where) : "the state folder";
  const code = err.code!;
  const [why, fix] =
    code === "EROFS"
      ? ["the file system is read-only", `Remount it read-write, or set OPS_STATE_DIR to a writable folder, then run again.`]
      : code === "ENOSPC" || code === "EDQUOT"
        ? [
            code === "ENOSPC" ? "no space is left on the device" : "the disk quota is used up",
            `Free space where ${folder} lives (\`df -h ${folder}\`), or set OPS_STATE_DIR to a folder on another disk, then run again.`,
          ]
        : [
            "permission denied",
            `Give this user write access to ${folder} (e.g. \`chown -R "$(id -un)" ${folder}\`), or set OPS_STATE_DIR to a folder it owns, then run again.`,
          ];
  return new RunStateError(`cannot write ${where}: ${why} (${code})`, { where, fix, cause: err });
}

/** Runs `fn`; a file system refusal becomes {@link environmentFsError} for `path`. */
export function writingTo<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw environmentFsError(err, path);
  }
}

/** The error writing into the nearest existing folder above `path` gives (EROFS, EACCES), if any. */
function whyNotWritable(path: string): NodeJS.ErrnoException | undefined {
  let dir = dirname(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (err) {
    return Object.assign(err as NodeJS.ErrnoException, { path });
  }
}
