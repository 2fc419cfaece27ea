/**
 * A throwaway Postgres server for tests, started with the same launcher as the local target
 * (src/local/pg-cluster.ts), so the suites also run as root from a checkout under a 0700 home.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  initCluster,
  packagedBinaries,
  postgresIdentity,
  reachableBinaries,
  startPostgres,
  stopPostgres,
} from "../../src/local/pg-cluster.ts";
import { freePort } from "../../src/local/process-utils.ts";
import { Secret } from "../../src/secrets/secret.ts";

export interface TestPgServer {
  port: number;
  password: string;
  /** Superuser URL, database `postgres`. */
  url: string;
  /** Stops the server and deletes its data folder. */
  stop(): Promise<void>;
}

/** Creates a cluster in a fresh temp folder and starts it on a free loopback port (fsync off: test data is disposable). */
export async function startTestPg(opts: { password: string; maxConnections?: number }): Promise<TestPgServer> {
  const parent = mkdtempSync(join(tmpdir(), "ops-test-pg-"));
  chmodSync(parent, 0o755); // mkdtemp makes it 0700; as root the `postgres` user must get through
  const dataDir = join(parent, "data");
  const port = await freePort();
  const log: string[] = [];
  try {
    const who = postgresIdentity();
    const bin = reachableBinaries(await packagedBinaries(), who);
    initCluster(bin, { dataDir, password: new Secret(opts.password), who });
    const child = await startPostgres(bin, {
      dataDir,
      port,
      who,
      flags: ["-c", `max_connections=${opts.maxConnections ?? 100}`, "-c", "fsync=off"],
      onLog: (t) => void log.push(t),
    });
    return {
      port,
      password: opts.password,
      url: `postgresql://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${port}/postgres`,
      async stop() {
        await stopPostgres(child);
        rmSync(parent, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(parent, { recursive: true, force: true });
    throw new Error(`test Postgres did not start on 127.0.0.1:${port}: ${String(err)}\n${log.slice(-30).join("")}`, { cause: err });
  }
}
