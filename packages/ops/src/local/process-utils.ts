import { spawn } from "node:child_process";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { environmentFsError, writingTo } from "../state/fs-errors.ts";
import { createServer, connect } from "node:net";
import { dirname } from "node:path";
import { connectExitSignal } from "./exit-signal.ts";
import { type HelperName, helperNodeArgs } from "./helper-command.ts";
import { waitFor } from "./wait.ts";

/** Linux: an exited process its parent has not reaped yet (state Z). Detached children are reaped by PID 1, which may take a while. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z";
  } catch {
    return false;
  }
}

/** Whether a process with this pid is running (signal 0; an exited, unreaped one is not). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a small race with other programs remains). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether something accepts TCP connections on host:port within `timeoutMs`. */
export function portAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/**
 * Writes JSON so a reader (or a crash at any point) sees the old file or the new one, never half:
 * a temp file in the same folder, flushed to disk, renamed over the old one, the folder flushed.
 */
export function writeJsonAtomic(path: string, data: unknown, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, "w", mode);
    try {
      writeFileSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    // A full disk leaves a short temp file: remove it; the old file is untouched.
    rmSync(tmp, { force: true });
    // Name the file being written, not its temp file.
    if ((err as NodeJS.ErrnoException).path === tmp) (err as NodeJS.ErrnoException).path = path;
    throw environmentFsError(err, path);
  }
  try {
    const dirFd = openSync(dirname(path), "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
  } catch {
    // some file systems do not let a folder be flushed; the rename is still atomic
  }
}

/** The last `lines` lines of a log file ("" when missing). */
export function tailFile(path: string, lines = 20): string {
  if (!existsSync(path)) return "";
  return readFileSync(path, "utf8")
    .split("\n")
    .slice(-lines - 1)
    .join("\n")
    .trimEnd();
}

/**
 * Starts one of this package's helpers ({@link helperNodeArgs}: prebuilt JavaScript, or the
 * TypeScript file when running from sources) as a detached background process (it outlives the
 * turbo task that started it), stdout and stderr appended to `logFile`.
 * `env` is the child's whole environment; `input` is written to its stdin and closed. Secrets travel
 * only these ways, never in argv or files.
 * @returns the child's pid.
 */
export function spawnDetached(
  helper: HelperName,
  args: string[],
  opts: { env: Record<string, string>; logFile: string; cwd: string; input?: string },
): number {
  const fd = writingTo(opts.logFile, () => {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    return openSync(opts.logFile, "a", 0o600);
  });
  try {
    const child = spawn(process.execPath, [...helperNodeArgs(helper), ...args], {
      cwd: opts.cwd,
      env: opts.env,
      detached: true,
      stdio: [opts.input === undefined ? "ignore" : "pipe", fd, fd],
    });
    if (opts.input !== undefined) {
      child.stdin!.on("error", () => undefined); // the child may die before reading; its state file says why
      child.stdin!.end(opts.input);
      (child.stdin as unknown as { unref?: () => void }).unref?.();
    }
    child.unref();
    if (!child.pid) throw new Error(`could not start ${helper}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/** Whether `exited` settles within `ms`. */
function settlesWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Resolves true once `pid` is gone, false after `ms`; checks with {@link waitFor}'s backoff. */
async function goneWithin(pid: number, ms: number): Promise<boolean> {
  return (await waitFor(async () => ({ ok: !isAlive(pid) }), ms)).ok;
}

/**
 * Sends SIGTERM and returns as soon as the process exits, or after `graceMs` sends SIGKILL and
 * waits (up to 5 s more) for that exit too. The exit is an event: the helpers this package starts
 * hold an exit socket ({@link holdExitSignal} in exit-signal.ts) whose `close` is the exit. A
 * process without one (started by an older version of this package, or not ours) is checked by
 * pid with a short backoff (25 ms, doubling to 250 ms).
 * @returns how it ended: `"stopped"`, `"killed"` or `"not-running"`.
 */
export async function stopProcess(pid: number | undefined, graceMs = 15_000): Promise<"stopped" | "killed" | "not-running"> {
  if (!isAlive(pid)) return "not-running";
  // Connect before signalling, so the exit cannot happen between the two.
  const signal = await connectExitSignal(pid!);
  const exitedWithin = (ms: number) => (signal ? settlesWithin(signal.exited, ms) : goneWithin(pid!, ms));
  try {
    try {
      process.kill(pid!, "SIGTERM");
    } catch {
      return "not-running"; // exited between the check and the signal
    }
    if (await exitedWithin(graceMs)) return "stopped";
    try {
      process.kill(pid!, "SIGKILL");
    } catch {
      return "stopped"; // exited just as the grace ran out
    }
    await exitedWithin(5_000);
    return "killed";
  } finally {
    signal?.socket.destroy();
  }
}
