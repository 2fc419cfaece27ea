/**
 * The processes of one local environment, read from /proc (Linux): every process without a
 * controlling terminal whose working folder lies under one of the environment's folders (its state
 * root, and the Postgres data folder when that lives under the OS temp dir). Every helper and app
 * we start runs there, detached from any terminal; a person's shell or `tail -f` in those folders
 * has a terminal and is left alone. Supervisors, the router and the
 * Postgres entry start detached, so each leads its own process group that its children (the app,
 * the postgres server) share; a helper killed with -9 leaves its children in that group, and
 * {@link stopGroup} stops them by group. Elsewhere than Linux nothing is listed, and stopping relies
 * on the pids the state files record.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { sep } from "node:path";
import { isAlive } from "./process-utils.ts";
import { waitFor } from "./wait.ts";

/** One live process as /proc shows it. */
export interface EnvProcess {
  pid: number;
  /** Process group id (field 5 of /proc/<pid>/stat). */
  pgid: number;
  ppid: number;
  /** Its working folder ("" when unreadable). */
  cwd: string;
  /** argv joined by spaces. */
  command: string;
  /** Whether it has a controlling terminal (field 7 of /proc/<pid>/stat, tty_nr, is not 0). */
  tty: boolean;
}

function readProcess(pid: number): EnvProcess | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" "); // state ppid pgrp session tty_nr ...
    if (fields[0] === "Z") return undefined;
    let cwd = "";
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
    } catch {
      // another user's process
    }
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), cwd, command, tty: Number(fields[4]) !== 0 };
  } catch {
    return undefined; // exited while we read it
  }
}

const under = (path: string, root: string) => path === root || path.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);

/** Whether `p` belongs to an environment whose folders are `roots`: no terminal, and its cwd inside one. */
export function belongsTo(p: EnvProcess, roots: readonly string[]): boolean {
  return !p.tty && roots.some((r) => under(p.cwd, r));
}

/** Every live process (not this one) of the environment whose folders are `roots`; [] off Linux. */
export function processesUnder(roots: readonly string[]): EnvProcess[] {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return [];
  }
  return pids
    .filter((pid) => pid !== process.pid)
    .map(readProcess)
    .filter((p): p is EnvProcess => p !== undefined && belongsTo(p, roots));
}

/** Members of process group `pgid` that belong to `roots` (so a reused group id never reaches a stranger). */
export function groupMembers(pgid: number, roots: readonly string[]): EnvProcess[] {
  return processesUnder(roots).filter((p) => p.pgid === pgid);
}

/**
 * SIGTERM to each process, then SIGKILL to those still alive after `graceMs`.
 * @returns how many were signalled.
 */
export async function terminate(procs: readonly EnvProcess[], graceMs: number): Promise<number> {
  const signalled = procs.filter((p) => {
    try {
      process.kill(p.pid, "SIGTERM");
      return true;
    } catch {
      return false;
    }
  });
  const gone = await waitFor(async () => ({ ok: signalled.every((p) => !isAlive(p.pid)) }), graceMs);
  if (!gone.ok) {
    for (const p of signalled.filter((x) => isAlive(x.pid))) {
      try {
        process.kill(p.pid, "SIGKILL");
      } catch {
        // exited just now
      }
    }
    await waitFor(async () => ({ ok: signalled.every((p) => !isAlive(p.pid)) }), 5_000);
  }
  return signalled.length;
}

/**
 * Stops what is left of the process group a detached helper led (the app a killed supervisor
 * started, a postgres server whose entry process died), only members under `roots`.
 * @returns the processes that were stopped.
 */
export async function stopGroup(pgid: number | undefined, roots: readonly string[], graceMs = 10_000): Promise<EnvProcess[]> {
  if (!pgid) return [];
  const members = groupMembers(pgid, roots);
  await terminate(members, graceMs);
  return members;
}
