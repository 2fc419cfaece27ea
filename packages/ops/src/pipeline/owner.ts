/**
 * Which process owns a run, so a run whose owner was killed (kill -9, a closed terminal) can be
 * told from one that is merely slow: for a pipeline task, the `turbo` process above it (it runs
 * every task of the run); alone, this process. Identified by pid and start time (field 22 of
 * /proc/<pid>/stat, clock ticks since boot), so a reused pid does not look alive. Linux only;
 * elsewhere no owner is recorded and the lease alone decides.
 */
import { readFileSync } from "node:fs";

export interface ProcessIdentity {
  pid: number;
  /** Start time of the process as /proc reports it; compared for equality only. */
  start: string;
}

/** `comm`, parent pid and start time of a process, from /proc/<pid>/stat; undefined when it is gone. */
function stat(pid: number): { comm: string; ppid: number; start: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    // after "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
    const fields = text.slice(close + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    return { comm, ppid: Number(fields[1]), start: fields[19]! };
  } catch {
    return undefined;
  }
}

/** The identity of a live process, or undefined. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  const s = stat(pid);
  return s ? { pid, start: s.start } : undefined;
}

/** Whether the process that had this identity still runs (same pid, same start time). */
export function isOwnerAlive(owner: ProcessIdentity): boolean {
  return stat(owner.pid)?.start === owner.start;
}

/** The owner of a run started by this process: the nearest `turbo` ancestor in a pipeline, else this process. */
export function runOwner(pipeline: boolean): ProcessIdentity | undefined {
  if (!pipeline) return processIdentity(process.pid);
  let pid = process.ppid;
  for (let depth = 0; depth < 12 && pid > 1; depth++) {
    const s = stat(pid);
    if (!s) return undefined;
    if (s.comm === "turbo") return { pid, start: s.start };
    pid = s.ppid;
  }
  return undefined;
}
