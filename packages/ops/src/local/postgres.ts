import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { createHash } from "node:crypto";
import { dirname, join, parse } from "node:path";
import { DeployError } from "../errors.ts";
import { Secret } from "../secrets/secret.ts";
import type { LocalPaths } from "./paths.ts";
import { z } from "zod";
import { isAlive, portAnswers, readJson, spawnDetached, stopProcess, tailFile, writeJsonAtomic } from "./process-utils.ts";
import { describePortHolder } from "./port-holder.ts";
import { minimalChildEnv } from "./child-env.ts";
import { waitFor } from "./wait.ts";
import { processesUnder, stopGroup } from "./env-processes.ts";

export interface PostgresState {
  pid: number;
  port: number;
  dataDir: string;
  status: "starting" | "ready" | "stopping" | "stopped" | "failed";
  /** The postgres server process itself (a child of the entry process). */
  postgresPid?: number;
  error?: string;
}

/** Fast shutdown (SIGINT: ends sessions, checkpoints) of a server whose entry process was killed; waits up to `graceMs`, then SIGKILL. */
async function stopOrphanedServer(pid: number, graceMs = 30_000): Promise<void> {
  try {
    process.kill(pid, "SIGINT");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

/** Whether every folder above `dir` lets other users through (the `postgres` OS user must reach it when we run as root). */
function othersCanTraverse(dir: string): boolean {
  let d = dir;
  const root = parse(d).root;
  while (d !== root) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      // not created yet: its parent decides
    }
    d = dirname(d);
  }
  return true;
}

/**
 * The data folder: `<local>/postgres/data`, or, when running as root under a folder the
 * `postgres` OS user cannot enter (a 0700 home), a folder under the OS temp dir keyed by the path.
 */
export function postgresDataDir(paths: LocalPaths): string {
  const preferred = join(paths.postgresDir, "data");
  if (process.getuid?.() !== 0 || othersCanTraverse(paths.postgresDir)) return preferred;
  const key = createHash("sha256").update(preferred).digest("hex").slice(0, 12);
  return join(tmpdir(), `deploy-ops-pg-${key}`, "data");
}

/** `postgresql://postgres:<password>@127.0.0.1:<port>/app` as a Secret. */
export function localDatabaseUrl(password: Secret, port: number): Secret {
  return new Secret(`postgresql://postgres:${encodeURIComponent(password.reveal())}@127.0.0.1:${port}/app`);
}

const stateSchema = z
  .object({
    pid: z.number().int(),
    port: z.number().int(),
    dataDir: z.string(),
    status: z.enum(["starting", "ready", "stopping", "stopped", "failed"]),
    postgresPid: z.number().int().optional(),
    error: z.string().optional(),
  })
  .passthrough();

/**
 * The server a data folder's `postmaster.pid` names, when that process still runs: its pid, port
 * (line 4 of the file, as Postgres writes it) and its parent, our entry process when that lives.
 */
function serverOfDataDir(dataDir: string): { postgresPid: number; port: number; entryPid: number | undefined } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n");
  } catch {
    return undefined;
  }
  const postgresPid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!postgresPid || !isAlive(postgresPid)) return undefined;
  const parent = processesUnder([dirname(dataDir), dataDir]).find((p) => p.pid === postgresPid)?.ppid;
  return { postgresPid, port, entryPid: parent && isAlive(parent) && parent !== 1 ? parent : undefined };
}

/**
 * `postgres/server.json`, validated. A damaged one is rebuilt from what runs (the data folder's
 * postmaster.pid and its parent process) and written back, or, when no server runs there, read
 * as absent (the next start writes a new one).
 */
export function readPostgresState(paths: LocalPaths): PostgresState | undefined {
  if (!existsSync(paths.postgresState)) return undefined;
  const parsed = stateSchema.safeParse(readJson<unknown>(paths.postgresState));
  if (parsed.success) return parsed.data as PostgresState;
  const dataDir = postgresDataDir(paths);
  const live = serverOfDataDir(dataDir);
  if (!live) return undefined;
  const rebuilt: PostgresState = {
    pid: live.entryPid ?? 0,
    postgresPid: live.postgresPid,
    port: live.port,
    dataDir,
    status: live.entryPid ? "ready" : "failed",
  };
  writeJsonAtomic(paths.postgresState, rebuilt);
  appendFileSync(
    paths.postgresLog,
    `[ops ${new Date().toISOString()}] ${paths.postgresState} was damaged; rebuilt from ${join(dataDir, "postmaster.pid")} (server pid ${live.postgresPid}, port ${live.port})\n`,
  );
  return rebuilt;
}

/** The running local Postgres, or undefined. */
export function runningPostgres(paths: LocalPaths): PostgresState | undefined {
  const state = readPostgresState(paths);
  return state && state.status === "ready" && isAlive(state.pid) ? state : undefined;
}

/**
 * Starts the embedded Postgres of this environment in the background unless it already runs.
 * Waits until it accepts connections (up to `timeoutMs`).
 * @throws {DeployError} with the tail of the Postgres log when it does not come up, or when the
 * port is taken by something else.
 */
export async function ensureLocalPostgres(
  paths: LocalPaths,
  opts: { port: number; password: Secret; baseEnv: Record<string, string | undefined>; timeoutMs?: number },
): Promise<{ started: boolean; state: PostgresState }> {
  mkdirSync(paths.postgresDir, { recursive: true });
  // Two cold starts at once would both run initdb on one folder: the second waits for the first.
  const { default: lockfile } = await import("proper-lockfile"); // only starting the database takes this lock
  const release = await lockfile.lock(paths.postgresDir, {
    lockfilePath: join(paths.postgresDir, "start.lock"),
    realpath: false,
    stale: 15_000,
    retries: { retries: 120, minTimeout: 100, maxTimeout: 1000, factor: 1.3 },
  });
  try {
    return await startUnlessRunning(paths, opts);
  } finally {
    await release().catch(() => undefined);
  }
}

async function startUnlessRunning(
  paths: LocalPaths,
  opts: { port: number; password: Secret; baseEnv: Record<string, string | undefined>; timeoutMs?: number },
): Promise<{ started: boolean; state: PostgresState }> {
  const current = runningPostgres(paths);
  if (current) {
    if (current.port !== opts.port) {
      throw new DeployError(`the local Postgres runs on port ${current.port}, but OPS_LOCAL_PG_PORT asks for ${opts.port}`, {
        fix: "Stop it with `pnpm ops:local down` and run again, or unset OPS_LOCAL_PG_PORT.",
      });
    }
    return { started: false, state: current };
  }
  // The entry process was killed (kill -9) but its server lives on, holding the port and the data folder.
  const stale = readPostgresState(paths);
  if (stale?.postgresPid && !isAlive(stale.pid) && isAlive(stale.postgresPid)) await stopOrphanedServer(stale.postgresPid);
  if (await portAnswers("127.0.0.1", opts.port)) {
    throw new DeployError(
      `port ${opts.port} (OPS_LOCAL_PG_PORT) is already used by another program${describePortHolder(opts.port)}, so the local Postgres cannot start`,
      {
        where: `127.0.0.1:${opts.port}`,
        fix: "Set OPS_LOCAL_PG_PORT to a free port, or point DATABASE_URL at your own Postgres.",
      },
    );
  }
  const dataDir = postgresDataDir(paths);
  // Only PATH, HOME, locale and TMPDIR: no token or secret of the deployer's lives on in the
  // wrapper's (or the server's) environment; the password arrives on stdin.
  const env = minimalChildEnv(opts.baseEnv);
  const pid = spawnDetached("postgres-main", [dataDir, String(opts.port), paths.postgresState], {
    env,
    input: `${opts.password.reveal()}\n`,
    logFile: paths.postgresLog,
    cwd: paths.postgresDir,
  });
  // Read the state file with a short backoff (25 ms, doubling to 250 ms) until ready, failed or gone.
  const seen = await waitFor(async () => {
    const state = readPostgresState(paths);
    const ready = state?.pid === pid && state.status === "ready";
    // Only this start's own state counts: a "failed" left by an earlier start must not end the wait.
    const ended = !isAlive(pid) || (state?.pid === pid && state.status === "failed");
    return { ok: ready || ended, ready, state };
  }, opts.timeoutMs ?? 60_000);
  if (seen.ready && seen.state) return { started: true, state: seen.state };
  await stopProcess(pid, 5000);
  throw new DeployError(`the local Postgres did not start on 127.0.0.1:${opts.port}`, {
    where: paths.postgresLog,
    fix: `Read the log above (${paths.postgresLog}); if the data folder is damaged, run \`pnpm ops:local down --purge --yes\` (it deletes the local database).\n${tailFile(paths.postgresLog, 15)}`,
  });
}

/** Stops the local Postgres if it runs (its entry process, the server, and anything left in their process group). */
export async function stopLocalPostgres(paths: LocalPaths): Promise<"stopped" | "killed" | "not-running"> {
  const state = readPostgresState(paths);
  const roots = [paths.postgresDir, postgresDataDir(paths)];
  if (state?.postgresPid && !isAlive(state.pid) && isAlive(state.postgresPid)) {
    await stopOrphanedServer(state.postgresPid);
    await stopGroup(state.pid, roots, 10_000);
    return "stopped";
  }
  const how = await stopProcess(state?.pid, 30_000);
  const left = await stopGroup(state?.pid, roots, 10_000);
  return how === "not-running" && left.length > 0 ? "stopped" : how;
}
