/**
 * Entry of the local database: `postgres-main.ts <dataDir> <port> <state.json>`, with the
 * superuser password on stdin (never argv, env or a shared file). Creates the cluster once, runs
 * postgres until SIGTERM/SIGINT, then stops it cleanly. Binaries: see ./pg-cluster.ts.
 */
import {
  ensureDataOwner,
  hasCluster,
  initCluster,
  packagedBinaries,
  postgresIdentity,
  reachableBinaries,
  readStdin,
  startPostgres,
  stopPostgres,
} from "./pg-cluster.ts";
import { Secret } from "../secrets/secret.ts";
import { OpsError } from "../errors.ts";
import { isAlive, writeJsonAtomic } from "./process-utils.ts";
import { holdExitSignal } from "./exit-signal.ts";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";

const [dataDir, portText, stateFile] = process.argv.slice(2);
if (!dataDir || !portText || !stateFile) {
  console.error("usage: postgres-main.ts <dataDir> <port> <state.json>  (password on stdin)");
  process.exit(2);
}
// A stopper in another process learns of our exit from this socket closing (see exit-signal.ts).
void holdExitSignal();

let server: ChildProcess | undefined;
const writeState = (status: string, extra: Record<string, unknown> = {}) =>
  writeJsonAtomic(stateFile, { pid: process.pid, postgresPid: server?.pid, port: Number(portText), dataDir, status, ...extra });

async function main() {
  writeState("starting");
  const password = new Secret((await readStdin()).replace(/\n$/, ""));
  if (!password.reveal()) throw new OpsError("E_USAGE", "no superuser password on stdin");
  const who = postgresIdentity();
  const bin = reachableBinaries(await packagedBinaries(), who);
  if (!hasCluster(dataDir!)) initCluster(bin, { dataDir: dataDir!, password, who });
  else {
    ensureDataOwner(dataDir!, who);
    await stopOrphan(dataDir!);
  }
  server = await startPostgres(bin, {
    dataDir: dataDir!,
    port: Number(portText),
    who,
    flags: ["-c", "max_connections=50"],
    onLog: (t) => process.stdout.write(t),
  });
  server.once("exit", (code, signal) => {
    if (stopping) return;
    writeState("failed", { error: `postgres exited (${signal ?? `code ${code}`})` });
    process.exit(1);
  });
  const { default: pg } = await import("pg");
  const client = new pg.Client({
    host: "127.0.0.1",
    port: Number(portText),
    user: "postgres",
    password: password.reveal(),
    database: "postgres",
  });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = 'app'");
    if (found.rowCount === 0) await client.query("CREATE DATABASE app");
  } finally {
    await client.end();
  }
  writeState("ready");
  console.log(`[postgres-main] ready on 127.0.0.1:${portText}`);
}

/** A server an earlier, killed entry process left running on this data folder (its postmaster.pid names a live pid). */
async function stopOrphan(dir: string): Promise<void> {
  const lockFile = join(dir, "postmaster.pid");
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, "utf8").split("\n")[0]);
  if (!pid || !isAlive(pid)) return;
  console.log(`[postgres-main] stopping the server an earlier run left running (pid ${pid})`);
  process.kill(pid, "SIGINT");
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) process.kill(pid, "SIGKILL");
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  writeState("stopping");
  if (server) await stopPostgres(server);
  writeState("stopped");
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
main().catch((err: Error) => {
  const fix = err instanceof OpsError && err.fix ? `\n${err.fix}` : "";
  console.error(`[postgres-main] ${err.message}${fix}`);
  writeState("failed", { error: err.message });
  if (server) server.kill("SIGKILL");
  process.exit(1);
});
