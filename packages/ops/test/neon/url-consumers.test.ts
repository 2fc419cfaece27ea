import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as pgParse } from "pg-connection-string";
import { describe, expect, it } from "vitest";
import { checkDatabaseUrlFor, pgxVersionFromGoMod, type DbUrlConsumer } from "../../src/neon/url-consumers.ts";

const HOST = "ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon.tech";
const node: DbUrlConsumer = { kind: "node-postgres", name: "the migrate step" };
const pgx: DbUrlConsumer = { kind: "pgx", name: "apps.backend", version: "v5.8.0" };
const url = (password: string, query = "sslmode=require") => `postgresql://app:${password}@${HOST}/neondb${query ? `?${query}` : ""}`;

/**
 * Each case: the password as written, the password meant, the query, and whether each consumer
 * must refuse it. The oracles below check the verdicts against the real parsers.
 */
const CASES: { name: string; written: string; meant: string; query?: string; node: boolean; pgx: boolean }[] = [
  { name: "a plain password", written: "s3cret", meant: "s3cret", node: false, pgx: false },
  { name: "a percent-encoded password", written: "p%40ss%2Fw%3Fo%23rd%20x", meant: "p@ss/w?o#rd x", node: false, pgx: false },
  {
    name: "sslmode=require&channel_binding=require",
    written: "s3cret",
    meant: "s3cret",
    query: "sslmode=require&channel_binding=require",
    node: false,
    pgx: true,
  },
  { name: "sslmode=verify-full", written: "s3cret", meant: "s3cret", query: "sslmode=verify-full", node: false, pgx: false },
  {
    name: "options, target_session_attrs and a pool setting",
    written: "s3cret",
    meant: "s3cret",
    query: "sslmode=require&options=-c%20search_path%3Dapp&target_session_attrs=read-write&pool_max_conns=10",
    node: false,
    pgx: false,
  },
  { name: "an unencoded / in the password", written: "pa/ss", meant: "pa/ss", node: true, pgx: true },
  { name: "an unencoded ? in the password", written: "pa?ss", meant: "pa?ss", node: true, pgx: true },
  { name: "an unencoded # in the password", written: "pa#ss", meant: "pa#ss", node: true, pgx: true },
  { name: "an unencoded @ in the password (psql splits at the first @)", written: "pa@ss", meant: "pa@ss", node: true, pgx: true },
  { name: "sslmode=no-verify", written: "s3cret", meant: "s3cret", query: "sslmode=no-verify", node: false, pgx: true },
  { name: "an unknown sslmode", written: "s3cret", meant: "s3cret", query: "sslmode=required", node: true, pgx: true },
  { name: "a space in the password", written: "pa ss", meant: "pa ss", node: false, pgx: true },
  { name: "a % not followed by hex", written: "pa%zz", meant: "pa%zz", node: false, pgx: true },
  { name: "ssl=true (a node-postgres spelling)", written: "s3cret", meant: "s3cret", query: "ssl=true", node: false, pgx: true },
];

describe("checkDatabaseUrlFor", () => {
  it.each(CASES)("$name: node-postgres refuses = $node, pgx refuses = $pgx, never showing the password", (c) => {
    const u = url(c.written, c.query ?? "sslmode=require");
    const forNode = checkDatabaseUrlFor(u, node, "MIGRATION_DATABASE_URL");
    const forPgx = checkDatabaseUrlFor(u, pgx, "DATABASE_URL of backend");
    expect(forNode.length > 0).toBe(c.node);
    expect(forPgx.length > 0).toBe(c.pgx);
    for (const f of [...forNode, ...forPgx]) {
      expect(f.status).toBe("fail");
      if (c.written.length > 3) expect(`${f.message} ${f.fix}`).not.toContain(c.written);
      expect(`${f.message} ${f.fix}`).not.toContain(c.meant);
    }
  });

  it("names the consumer and the parameter", () => {
    expect(checkDatabaseUrlFor(url("s3cret", "sslmode=require&channel_binding=require"), pgx, "DATABASE_URL of backend")).toEqual([
      {
        status: "fail",
        message:
          'DATABASE_URL of backend: channel_binding=require is not supported by apps.backend (pgx v5.8.0): pgx sends unknown URL parameters to the server as settings, and the server refuses the connection (unrecognized configuration parameter "channel_binding")',
        fix: "remove channel_binding from the URL the backend gets (pgx v5.8.0 has no channel binding; TLS with sslmode=require or verify-full still protects the connection)",
      },
    ]);
    expect(checkDatabaseUrlFor(url("pa/ss"), node, "MIGRATION_DATABASE_URL")[0]!.message).toBe(
      'MIGRATION_DATABASE_URL: the password holds an unencoded "/"; the migrate step (node-postgres) ends the host part there, so it would connect to another host with a cut password (the password is not shown)',
    );
    expect(checkDatabaseUrlFor(url("s3cret", "sslmode=no-verify"), pgx, "DATABASE_URL of backend")[0]!.message).toBe(
      'DATABASE_URL of backend: sslmode=no-verify is not an sslmode apps.backend (pgx v5.8.0) knows (disable, allow, prefer, require, verify-ca, verify-full); it fails with "sslmode is invalid" (no-verify is node-postgres only)',
    );
  });

  it("refuses a value that is not a URL without echoing it", () => {
    const [f] = checkDatabaseUrlFor("host=h password=hunter2", pgx, "DATABASE_URL of backend");
    expect(f!.message).not.toContain("hunter2");
  });
});

describe("oracle: pg-connection-string reads the passing cases as written and the refused ones differently", () => {
  it.each(CASES.filter((c) => !c.query?.includes("sslmode=required")))("$name", (c) => {
    const u = url(c.written, c.query ?? "sslmode=require");
    let asWritten: boolean;
    try {
      const cfg = pgParse(u);
      asWritten = cfg.host === HOST && cfg.password === c.meant && cfg.database === "neondb";
    } catch {
      asWritten = false;
    }
    // "@" is refused on purpose although node-postgres splits at the last @ (psql and libpq do not).
    if (c.written.includes("@") && !c.written.includes("%40")) expect(asWritten).toBe(true);
    else expect(asWritten).toBe(!c.node);
  });
});

describe("oracle: pgx itself (test/fixtures/pgx-parse, the pgx version of apps/backend)", () => {
  const fixture = resolve(import.meta.dirname, "../fixtures/pgx-parse");
  const backendGoMod = readFileSync(resolve(import.meta.dirname, "../../../../apps/backend/go.mod"), "utf8");

  it("the oracle and the preflight use the pgx version apps/backend requires", () => {
    expect(pgxVersionFromGoMod(readFileSync(resolve(fixture, "go.mod"), "utf8"))).toBe(pgxVersionFromGoMod(backendGoMod));
    expect(pgxVersionFromGoMod(backendGoMod)).toBe(pgx.kind === "pgx" ? pgx.version : "");
  });

  it("pgx reads every passing case as written and sends no client-only option; every refused case it reads differently, fails on, or would send to the server", () => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PG")));
    const input = `${CASES.map((c) => `${c.meant}\t${url(c.written, c.query ?? "sslmode=require")}`).join("\n")}\n`;
    const out = execFileSync("go", ["run", "."], {
      cwd: fixture,
      input,
      env: { ...env, GOFLAGS: "-mod=readonly" },
      encoding: "utf8",
      timeout: 240_000,
    });
    const results = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { ok: boolean; host?: string; database?: string; passwordMatch: boolean; runtimeParams?: string[] });
    expect(results).toHaveLength(CASES.length);
    CASES.forEach((c, i) => {
      const r = results[i]!;
      const clientOnly = (r.runtimeParams ?? []).filter((p) => ["channel_binding", "ssl"].includes(p));
      const asWritten = r.ok && r.host === HOST && r.database === "neondb" && r.passwordMatch && clientOnly.length === 0;
      if (c.written === "pa@ss")
        expect(asWritten, c.name).toBe(true); // refused on purpose (psql), pgx itself reads it
      else expect(asWritten, c.name).toBe(!c.pgx);
    });
  }, 300_000);
});
