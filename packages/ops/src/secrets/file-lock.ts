import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { OpsError } from "../errors.ts";

const sleep = new Int32Array(new SharedArrayBuffer(4));

/**
 * Runs `fn` while holding `<path>.lock` (proper-lockfile's lock folder, stale after 10 s, so a
 * killed holder frees it by itself). Synchronous, because the secrets resolver is: the lock is
 * retried every 50 ms for up to `timeoutMs`.
 * @throws {OpsError} E_LOCK naming the lock when another process holds it for longer.
 */
export function withFileLock<T>(path: string, fn: () => T, timeoutMs = 30_000): T {
  // Loaded here, not at the top: only a run that generates secrets takes this lock.
  const lockfile = createRequire(import.meta.url)("proper-lockfile") as typeof import("proper-lockfile");
  mkdirSync(dirname(path), { recursive: true });
  const lockfilePath = `${path}.lock`;
  const deadline = Date.now() + timeoutMs;
  let release: () => void;
  for (;;) {
    try {
      release = lockfile.lockSync(path, { lockfilePath, realpath: false, stale: 10_000 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
      if (Date.now() > deadline) {
        throw new OpsError("E_LOCK", `another run has held ${lockfilePath} for ${Math.round(timeoutMs / 1000)}s`, {
          where: lockfilePath,
          fix: "Wait for the other run to finish, then run again.",
        });
      }
      Atomics.wait(sleep, 0, 0, 50);
    }
  }
  try {
    return fn();
  } finally {
    release();
  }
}
