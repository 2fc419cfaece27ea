/**
 * C-16 cold start: connectPg retries only the connect phase, with backoff, says why, and gives up
 * at once on errors retrying cannot fix. A TCP front that swallows the first connection stands in
 * for a suspended Neon compute; the real Postgres answers after it.
 */
import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPg, urlWhere } from "../../src/db/connect.ts";
import { OpsError } from "../../src/errors.ts";
import { freePort } from "../../src/local/process-utils.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

/** A TCP front for the test database that leaves the first `swallow` connections unanswered. */
async function coldFront(swallow: number): Promise<{ url: URL; connections: () => number; close: () => Promise<void> }> {
  const target = new URL(db.url);
  const sockets: Socket[] = [];
  let n = 0;
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => undefined);
    if (++n <= swallow) return; // accepted, never answered: the driver's connect timeout fires
    const upstream = tcpConnect({ host: target.hostname, port: Number(target.port) });
    sockets.push(upstream);
    upstream.on("error", () => socket.destroy());
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const url = new URL(db.url);
  url.port = String(typeof addr === "object" && addr ? addr.port : 0);
  return {
    url,
    connections: () => n,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("connectPg", () => {
  it("connects and the client runs SQL", async () => {
    const client = await connectPg(new Secret(db.url), {
      connectTimeoutMs: 5_000,
      purpose: "migrations",
      where: "test",
      applicationName: "ops-connect-test",
    });
    try {
      const { rows } = await client.query("SELECT current_database() AS d, current_setting('application_name') AS app");
      expect(rows[0]).toEqual({ d: db.name, app: "ops-connect-test" });
    } finally {
      await client.end();
    }
  });

  it("retries a connect that times out (cold compute), saying why, then succeeds", { timeout: 30_000 }, async () => {
    const front = await coldFront(1);
    const retries: Array<[number, number, string]> = [];
    try {
      const client = await connectPg(new Secret(front.url.toString()), {
        connectTimeoutMs: 300,
        attempts: 4,
        purpose: "migrations",
        where: urlWhere(new Secret(front.url.toString())),
        onRetry: (...a) => retries.push(a),
      });
      try {
        expect((await client.query("SELECT 1 AS one")).rows[0].one).toBe(1);
      } finally {
        await client.end();
      }
      expect(front.connections()).toBe(2);
      expect(retries).toHaveLength(1);
      expect(retries[0]![0]).toBe(1);
      expect(retries[0]![1]).toBe(1000);
      expect(retries[0]![2]).toMatch(/timeout/i);
    } finally {
      await front.close();
    }
  });

  it("gives up after the given attempts, naming the host and the last reason, never the URL", { timeout: 30_000 }, async () => {
    const port = await freePort(); // nothing listens there
    const secretUrl = new Secret(`postgresql://postgres:very-secret-pw@127.0.0.1:${port}/app`);
    const retries: string[] = [];
    const err = await connectPg(secretUrl, {
      connectTimeoutMs: 1_000,
      attempts: 2,
      purpose: "migrations",
      where: urlWhere(secretUrl),
      onRetry: (_n, _d, r) => retries.push(r),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpsError);
    const e = err as OpsError;
    expect(e.code).toBe("E_COMMAND");
    expect(e.message).toBe(
      `could not connect to the migrations database at 127.0.0.1:${port}/app: connect ECONNREFUSED 127.0.0.1:${port} (ECONNREFUSED)`,
    );
    expect(e.where).toBe(`127.0.0.1:${port}/app`);
    expect(retries).toEqual([`connect ECONNREFUSED 127.0.0.1:${port} (ECONNREFUSED)`]);
    expect(JSON.stringify({ m: e.message, f: e.fix, r: retries })).not.toContain("very-secret-pw");
  });

  it("does not retry a wrong password", { timeout: 30_000 }, async () => {
    const bad = new URL(db.url);
    bad.password = "wrong-password";
    const retries: string[] = [];
    const err = await connectPg(new Secret(bad.toString()), {
      connectTimeoutMs: 5_000,
      attempts: 4,
      purpose: "deploy lock",
      where: "db",
      onRetry: (_n, _d, r) => retries.push(r),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpsError);
    expect((err as Error).message).toBe(
      'could not connect to the deploy lock database at db: password authentication failed for user "postgres" (28P01)',
    );
    expect(retries).toEqual([]);
  });

  it("does not retry a missing database", { timeout: 30_000 }, async () => {
    const missing = new URL(db.url);
    missing.pathname = "/no_such_database";
    const retries: string[] = [];
    const err = await connectPg(new Secret(missing.toString()), {
      connectTimeoutMs: 5_000,
      attempts: 4,
      purpose: "migrations",
      where: "db",
      onRetry: (_n, _d, r) => retries.push(r),
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      'could not connect to the migrations database at db: database "no_such_database" does not exist (3D000)',
    );
    expect(retries).toEqual([]);
  });
});

describe("urlWhere", () => {
  it("gives host, port and database, never credentials", () => {
    expect(urlWhere(new Secret("postgresql://u:pw@ep-x-1.us-east-2.aws.neon.tech:5432/app?sslmode=require"))).toBe(
      "ep-x-1.us-east-2.aws.neon.tech:5432/app",
    );
    expect(urlWhere(new Secret("postgresql://u:pw@db.example.com/app"))).toBe("db.example.com/app");
    expect(urlWhere(new Secret("not a url"))).toBe("(unparseable database URL)");
  });
});
