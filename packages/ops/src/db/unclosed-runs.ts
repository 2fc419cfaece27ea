import type { HistoryEntry } from "./history.ts";
import { type LockInfo, lockTakeoverNote } from "./lock.ts";

/**
 * The runs `ops.deploy_history` still records as running although they cannot be (a kill -9, a
 * closed terminal, a lost machine), each with why: its lock's holder process on this host is gone
 * or its lease expired ({@link lockTakeoverNote}), or it holds no deploy lock at all (a running
 * run always does: it takes the lock before its row and writes its last row before releasing it).
 * The next run that takes the lock records them as failed; until then `ops:history` says so.
 * `lock` must be read in the same snapshot as `entries` (one REPEATABLE READ transaction).
 * @returns run id → one line.
 */
export function unclosedRuns(
  entries: readonly HistoryEntry[],
  lock: LockInfo | undefined,
  host: string,
  now = new Date(),
): Map<string, string> {
  const gone = new Map<string, string>();
  for (const e of entries) {
    if (e.status !== "running") continue;
    if (lock?.runId !== e.runId) {
      gone.set(e.runId, "it holds no deploy lock, so it is not running; the next run records it as failed");
      continue;
    }
    const note = lockTakeoverNote(lock, host, now);
    if (note) gone.set(e.runId, note);
  }
  return gone;
}
