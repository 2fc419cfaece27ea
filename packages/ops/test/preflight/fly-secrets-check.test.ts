import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFlySecrets, checkRuntimeDatabaseUrls, databaseUrlConsumer } from "../../src/preflight/fly-checks.ts";
import type { Runner } from "../../src/runner/types.ts";
import { testContext } from "../setup/context.ts";

/** git says the file is not tracked (exit 1), so only the file's own findings are left. */
const untracked: Runner = async (cmd) => ({
  ok: false,
  exitCode: 1,
  signal: null,
  stdout: "",
  stderr: "",
  durationMs: 0,
  command: [cmd.file, ...cmd.args].join(" "),
});

async function run(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "ops-prefl-secrets-"));
  const file = join(dir, ".env.production");
  writeFileSync(file, text);
  chmodSync(file, 0o600);
  const { ctx } = await testContext({ env: { OPS_TARGET: "fly", OPS_SECRETS_FILE: file, FLY_API_TOKEN: "t" }, runner: untracked });
  return { results: await checkFlySecrets(ctx), file, ctx };
}

const SESSION = "s1-".padEnd(40, "x");
const ALL = `DATABASE_URL=postgresql://u:p@h/db\nSESSION_SECRET=${SESSION}\nBACKEND_AUTH_TOKEN=t1\n`;

describe("checkFlySecrets", () => {
  it("turns each dialect warning into a warn result at file:line, without the value", async () => {
    const { results } = await run(ALL.replace(`SESSION_SECRET=${SESSION}`, `SESSION_SECRET=${SESSION} #not-a-comment`));
    const warns = results.filter((r) => r.status === "warn");
    expect(warns).toHaveLength(1);
    expect(warns[0]!.id).toBe("secrets.file");
    expect(warns[0]!.where).toMatch(/\.env\.production:2$/);
    expect(warns[0]!.message).toContain('SESSION_SECRET: the unquoted value ends at " #"');
    expect(warns[0]!.message).not.toContain("not-a-comment");
    expect(results.find((r) => r.id === "secrets")!.status).toBe("pass");
  });

  it("a value that breaks its rule in ops.config.ts fails by key and length, never showing the value", async () => {
    const short = "short-PLANTED-session";
    const { results, file, ctx } = await run(ALL.replace(`SESSION_SECRET=${SESSION}`, `SESSION_SECRET=${short}`));
    const shown = relative(ctx.env.repoRoot, file);
    expect(results.filter((r) => r.status === "fail")).toEqual([
      {
        id: "secrets.rules.SESSION_SECRET",
        status: "fail",
        message: "SESSION_SECRET (given to client) is 21 characters long; it must be at least 32",
        where: shown,
        fix: `Set SESSION_SECRET in ${shown} to a value that follows secrets.rules.SESSION_SECRET in ops.config.ts (a random one: \`openssl rand -base64 48\`).`,
      },
    ]);
    expect(JSON.stringify(results)).not.toContain(short);
  });

  it("fails once listing every malformed line", async () => {
    const { results } = await run(`${ALL}oops\nBAD KEY=1\n`);
    const failed = results.filter((r) => r.status === "fail");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toMatch(/has 2 malformed lines:\n {2}.*:4: expected KEY=VALUE[^\n]*\n {2}.*:5: invalid key at column 4/);
  });
});

describe("checkRuntimeDatabaseUrls", () => {
  it("reads the backend's DATABASE_URL with the pgx version of apps/backend/go.mod", async () => {
    const { ctx } = await run(ALL);
    expect(databaseUrlConsumer(ctx.env.repoRoot, ctx.config, "backend")).toEqual({ kind: "pgx", name: "apps.backend", version: "v5.8.0" });
    expect(checkRuntimeDatabaseUrls(ctx)).toEqual([
      { id: "database.url.backend", status: "pass", message: "DATABASE_URL of backend reads as written for pgx v5.8.0" },
    ]);
  });

  it("fails on Neon's channel_binding=require for the Go backend, naming app and parameter", async () => {
    const { ctx } = await run(
      ALL.replace("postgresql://u:p@h/db", "postgresql://u:pw@ep-x.us-east-2.aws.neon.tech/db?sslmode=require&channel_binding=require"),
    );
    const [r] = checkRuntimeDatabaseUrls(ctx);
    expect(r!.status).toBe("fail");
    expect(r!.where).toBe("DATABASE_URL (secret of backend)");
    expect(r!.message).toMatch(/^DATABASE_URL of backend: channel_binding=require is not supported by apps\.backend \(pgx v5\.8\.0\)/);
  });
});
