/**
 * Entry of a supervised local release: `supervisor-main.ts <state.json> <cwd> -- <argv...>`.
 * Runs the app with the environment it was given, restarts it with backoff when it exits on its
 * own (up to 5 times a minute), and on SIGTERM/SIGINT stops it gracefully (SIGTERM, then SIGKILL
 * after 10 s). Its state file says what runs; its stdout/stderr (and the app's) go to the log the
 * launcher opened.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeJsonAtomic } from "./process-utils.ts";
import { holdExitSignal } from "./exit-signal.ts";

const [stateFile, cwd, sep, ...argv] = process.argv.slice(2);
if (!stateFile || !cwd || sep !== "--" || argv.length === 0) {
  console.error("usage: supervisor-main.ts <state.json> <cwd> -- <command...>");
  process.exit(2);
}
// A stopper in another process learns of our exit from this socket closing (see exit-signal.ts).
void holdExitSignal();

const MAX_RESTARTS_PER_MINUTE = 5;
const STOP_GRACE_MS = 10_000;
let child: ChildProcess | undefined;
let stopping = false;
const restarts: number[] = [];
const startedAt = new Date().toISOString();

const log = (msg: string) => console.log(`[supervisor ${new Date().toISOString()}] ${msg}`);
let claimed = false;
// Two supervisors can share a release folder: `ops:local up` restarts a release whose supervisor
// a killed run left unrouted, then stops that one. The supervisor that started last owns the state
// file, so the older one's "stopping"/"stopped" does not hide the copy that serves.
const ownsState = (): boolean => {
  if (!claimed) return true;
  try {
    return (JSON.parse(readFileSync(stateFile, "utf8")) as { supervisorPid?: unknown }).supervisorPid === process.pid;
  } catch {
    return true; // gone or unreadable: nobody else claims it
  }
};
const writeState = (status: string, extra: Record<string, unknown> = {}) => {
  if (!ownsState()) return;
  claimed = true;
  writeJsonAtomic(stateFile, {
    supervisorPid: process.pid,
    childPid: child?.pid ?? null,
    status,
    restarts: restarts.length,
    startedAt,
    ...extra,
  });
};

function start(): void {
  child = spawn(argv[0]!, argv.slice(1), { cwd, env: process.env, stdio: ["ignore", "inherit", "inherit"] });
  child.once("error", (err) => log(`could not start ${argv[0]}: ${err.message}`));
  log(`started ${argv.join(" ")} (pid ${child.pid})`);
  writeState("running");
  child.once("exit", (code, signal) => {
    if (stopping) return;
    const now = Date.now();
    while (restarts.length && now - restarts[0]! > 60_000) restarts.shift();
    if (restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      log(`exited (code ${code}, signal ${signal}); restarted ${restarts.length} times in a minute, giving up`);
      writeState("crashed", { lastExit: { code, signal } });
      process.exit(1);
    }
    restarts.push(now);
    const delayMs = 500 * 2 ** (restarts.length - 1);
    log(`exited (code ${code}, signal ${signal}); restarting in ${delayMs} ms`);
    writeState("restarting", { lastExit: { code, signal } });
    setTimeout(start, delayMs);
  });
}

function stop(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  writeState("stopping");
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    writeState("stopped");
    process.exit(0);
  }
  const killTimer = setTimeout(() => {
    log(`still running after ${STOP_GRACE_MS} ms; SIGKILL`);
    child?.kill("SIGKILL");
  }, STOP_GRACE_MS);
  child.once("exit", () => {
    clearTimeout(killTimer);
    writeState("stopped");
    process.exit(0);
  });
  child.kill("SIGTERM");
}

process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
start();
