import { describe, expect, it } from "vitest";
import { checkMigrationUrl, classifyConnectError, isNeonHost, neonDirectHost, redactUrl } from "../../src/neon/migration-url.ts";

const PASSWORD = "s3cr3t-P4ss";
const neon = (host: string, query = "?sslmode=require") => `postgresql://neondb_owner:${PASSWORD}@${host}/neondb${query}`;

describe("checkMigrationUrl: C-13 pooler endpoint", () => {
  it("refuses the pooled host and names the direct host", () => {
    expect(checkMigrationUrl(neon("ep-example-123456-pooler.us-east-2.aws.neon.tech"))).toEqual({
      ok: false,
      message:
        "the migration URL points at Neon's pooled endpoint ep-example-123456-pooler.us-east-2.aws.neon.tech; PgBouncer transaction pooling breaks postgres-migrations' session advisory lock, so two deploys could migrate at once. Use the direct host ep-example-123456.us-east-2.aws.neon.tech",
      fix: 'replace the host with ep-example-123456.us-east-2.aws.neon.tech (drop "-pooler"), e.g. the console\'s "Direct connection" string',
    });
  });

  it.each([
    ["ep-cool-darkness-a1b2c3d4-pooler.eastus2.azure.neon.tech", "ep-cool-darkness-a1b2c3d4.eastus2.azure.neon.tech"],
    ["EP-X-1-POOLER.us-east-2.aws.neon.tech:5432", "ep-x-1.us-east-2.aws.neon.tech"],
  ])("refuses %s (azure, upper case, port) and names %s", (host, direct) => {
    const r = checkMigrationUrl(neon(host));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.fix).toContain(`replace the host with ${direct}`);
  });

  it("refuses a pooled host given as the host query parameter (node-postgres uses it over the URL host)", () => {
    const r = checkMigrationUrl(
      `postgresql://u:${PASSWORD}@ep-x-1.us-east-2.aws.neon.tech/db?sslmode=require&host=ep-x-1-pooler.us-east-2.aws.neon.tech`,
    );
    expect(r.ok).toBe(false);
  });

  it("accepts the direct host", () => {
    expect(checkMigrationUrl(neon("ep-example-123456.us-east-2.aws.neon.tech"))).toEqual({
      ok: true,
      host: "ep-example-123456.us-east-2.aws.neon.tech",
      direct: true,
      neon: true,
      warnings: [],
    });
  });
});

describe("checkMigrationUrl: C-15 TLS", () => {
  const host = "ep-x-1.us-east-2.aws.neon.tech";

  it("refuses a Neon URL without sslmode", () => {
    expect(checkMigrationUrl(`postgresql://u:p@${host}/db`)).toEqual({
      ok: false,
      message: `Neon needs TLS but the migration URL for ${host} has no sslmode; Neon rejects it ("connection is insecure") or it may fall back to plain text`,
      fix: "add sslmode=require (or sslmode=verify-full) to the URL",
    });
  });

  it.each(["disable", "allow", "prefer", "no-verify"])("refuses sslmode=%s", (mode) => {
    const r = checkMigrationUrl(`postgresql://u:p@${host}/db?sslmode=${mode}`);
    expect(r).toMatchObject({ ok: false, fix: "add sslmode=require (or sslmode=verify-full) to the URL" });
    if (!r.ok) expect(r.message).toContain(`has sslmode=${mode}`);
  });

  it.each(["require", "verify-full", "verify-ca"])("accepts sslmode=%s", (mode) => {
    expect(checkMigrationUrl(`postgres://u:p@${host}/db?sslmode=${mode}&channel_binding=require`).ok).toBe(true);
  });

  it("refuses ssl=true without sslmode (node-postgres-only spelling)", () => {
    const r = checkMigrationUrl(`postgresql://u:p@${host}/db?ssl=true`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain("ssl=true without sslmode");
  });

  it("refuses TLS given twice, for Neon and for any host", () => {
    expect(checkMigrationUrl(`postgresql://u:p@${host}/db?sslmode=require`, { sslOption: { rejectUnauthorized: true } })).toEqual({
      ok: false,
      message:
        "TLS is given twice: sslmode=require in the URL and an explicit ssl option; node-postgres lets the URL silently override the option",
      fix: "pick one: keep sslmode in the URL and drop the ssl option, or remove the ssl parameters from the URL",
    });
    expect(checkMigrationUrl("postgresql://u:p@localhost/db?sslmode=disable", { sslOption: false }).ok).toBe(false);
    expect(checkMigrationUrl(`postgresql://u:p@${host}/db?sslrootcert=/ca.pem`, { sslOption: true }).ok).toBe(false);
  });

  it("accepts TLS given only as the ssl option, refuses ssl: false", () => {
    expect(checkMigrationUrl(`postgresql://u:p@${host}/db`, { sslOption: true }).ok).toBe(true);
    expect(checkMigrationUrl(`postgresql://u:p@${host}/db`, { sslOption: { rejectUnauthorized: true } }).ok).toBe(true);
    const off = checkMigrationUrl(`postgresql://u:p@${host}/db`, { sslOption: false });
    expect(off.ok).toBe(false);
    if (!off.ok) expect(off.message).toContain("ssl option false");
  });

  it("allows localhost and other non-Neon hosts without TLS", () => {
    expect(checkMigrationUrl("postgresql://postgres:postgres@localhost:5432/app")).toEqual({
      ok: true,
      host: "localhost",
      direct: true,
      neon: false,
      warnings: [],
    });
    expect(checkMigrationUrl("postgres://u:p@127.0.0.1:55432/app?sslmode=disable").ok).toBe(true);
    const remote = checkMigrationUrl("postgres://u:p@db.internal:5432/app");
    expect(remote).toMatchObject({ ok: true, neon: false, warnings: ["the migration URL for db.internal does not use TLS (no sslmode)"] });
  });

  it("refuses an unknown sslmode", () => {
    expect(checkMigrationUrl(`postgresql://u:p@${host}/db?sslmode=true`)).toMatchObject({
      ok: false,
      fix: "use sslmode=require or sslmode=verify-full",
    });
  });
});

describe("checkMigrationUrl: shape and warnings", () => {
  it.each([
    ["not a url", "is not a valid URL"],
    ["postgresql://u:p@h1:5432,h2:5432/db", "is not a valid URL"],
    ["mysql://u:p@host/db", 'has scheme "mysql:"'],
    ["https://u:p@ep-x-1.us-east-2.aws.neon.tech/db", 'has scheme "https:"'],
    ["postgresql:///db", "has no host"],
  ])("refuses %s", (url, text) => {
    const r = checkMigrationUrl(url);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(text);
  });

  it("warns about connect_timeout (ignored by node-postgres) and a missing database", () => {
    const r = checkMigrationUrl("postgresql://u:p@ep-x-1.us-east-2.aws.neon.tech?sslmode=require&connect_timeout=5");
    expect(r).toMatchObject({
      ok: true,
      warnings: [
        "connect_timeout=5 in the URL is ignored by node-postgres; the migrate step uses its own connect timeout (15000 ms)",
        "the migration URL for ep-x-1.us-east-2.aws.neon.tech names no database; node-postgres then uses the user name as the database",
      ],
    });
  });
});

describe("the password never appears", () => {
  const urls = [
    neon("ep-example-123456-pooler.us-east-2.aws.neon.tech"),
    neon("ep-x-1.us-east-2.aws.neon.tech", ""),
    neon("ep-x-1.us-east-2.aws.neon.tech", "?sslmode=disable"),
    neon("ep-x-1.us-east-2.aws.neon.tech", "?sslmode=bogus"),
    neon("ep-x-1.us-east-2.aws.neon.tech", `?sslmode=require&password=${PASSWORD}`),
    `postgresql://u:${PASSWORD}@/db`,
    `postgresql://u:${PASSWORD}@h1:1,h2:2/db`,
    `mysql://u:${PASSWORD}@host/db`,
    `postgresql://u:${PASSWORD}@db.example.com/db?connect_timeout=1`,
    "postgresql://u:1234/s3cr3t-P4ss@ep-x-1.us-east-2.aws.neon.tech/db",
    "postgresql://u:ab?s3cr3t-P4ss@ep-x-1.us-east-2.aws.neon.tech/db",
    "postgresql://u:ab#s3cr3t-P4ss@ep-x-1.us-east-2.aws.neon.tech/db",
    "postgresql://u:s3cr3t-P4ss@x@localhost/db",
  ];
  it.each(urls)("%s", (url) => {
    expect(JSON.stringify(checkMigrationUrl(url))).not.toContain(PASSWORD);
    expect(JSON.stringify(checkMigrationUrl(url, { sslOption: true }))).not.toContain(PASSWORD);
    expect(redactUrl(url)).not.toContain(PASSWORD);
  });
});

describe("redactUrl", () => {
  it("replaces the userinfo password and password query values", () => {
    expect(redactUrl(`postgresql://u:${PASSWORD}@h/db?sslmode=require`)).toBe("postgresql://u:***@h/db?sslmode=require");
    expect(redactUrl(`postgresql://u@h/db?password=${PASSWORD}&sslpassword=x`)).toBe("postgresql://u@h/db?password=***&sslpassword=***");
    expect(redactUrl("postgresql://u@h/db")).toBe("postgresql://u@h/db");
    expect(redactUrl("postgresql://h:5432/db")).toBe("postgresql://h:5432/db");
  });

  it("redacts unparseable URLs too, including passwords with @ and /", () => {
    expect(redactUrl(`postgresql://u:${PASSWORD}@h1:1,h2:2/db`)).toBe("postgresql://u:***@h1:1,h2:2/db");
    expect(redactUrl("postgresql://u:pa@ss/w@h1:1,h2:2/db")).toBe("postgresql://u:***@h1:1,h2:2/db");
  });
});

describe("host helpers", () => {
  it("recognises Neon hosts and strips -pooler", () => {
    expect(isNeonHost("ep-x-1.us-east-2.aws.neon.tech")).toBe(true);
    expect(isNeonHost("ep-x-1.eastus2.azure.neon.tech")).toBe(true);
    expect(isNeonHost("neon.tech.example.com")).toBe(false);
    expect(neonDirectHost("ep-x-1-pooler.us-east-2.aws.neon.tech")).toBe("ep-x-1.us-east-2.aws.neon.tech");
    expect(neonDirectHost("ep-x-1.us-east-2.aws.neon.tech")).toBe("ep-x-1.us-east-2.aws.neon.tech");
  });
});

describe("classifyConnectError: C-16 retries the connect phase only", () => {
  it.each([
    [Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5432"), { code: "ECONNREFUSED" }), true],
    [new Error("timeout expired"), true],
    [new Error("Connection terminated due to connection timeout"), true],
    [new Error("Couldn't connect to compute node"), true],
    [Object.assign(new Error("the database system is starting up"), { code: "57P03" }), true],
    [Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }), true],
    [Object.assign(new Error('password authentication failed for user "u"'), { code: "28P01" }), false],
    [new Error("connection is insecure (try using `sslmode=require`)"), false],
    [Object.assign(new Error('database "x" does not exist'), { code: "3D000" }), false],
    [Object.assign(new Error('relation "t" does not exist'), { code: "42P01" }), false],
    ["weird", false],
  ])("%s → retry %s", (err, retry) => {
    const c = classifyConnectError(err);
    expect(c.retry).toBe(retry);
    expect(c.reason).toBeTruthy();
  });
});
