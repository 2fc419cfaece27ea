/**
 * Per-file databases on the shared test server started by ./postgres.ts.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  name: string;
  url: string;
  /** A new connected client on this database (the caller ends it, or `drop` does). */
  connect(applicationName?: string): Promise<pg.Client>;
  /** Ends every client `connect` made and drops the database. */
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

/** `CREATE DATABASE test_<random>` on the shared server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("pgUrl");
  const name = `test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const clients: pg.Client[] = [];
  return {
    name,
    url,
    async connect(applicationName = "ops-unit-test") {
      const client = new pg.Client({ connectionString: url, application_name: applicationName });
      client.on("error", () => undefined);
      await client.connect();
      clients.push(client);
      return client;
    },
    async drop() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      const a = new pg.Client({ connectionString: serverUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}
