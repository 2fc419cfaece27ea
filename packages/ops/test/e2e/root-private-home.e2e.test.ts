// A new user on a container: root, the checkout under a 0700 folder (a root home, `mktemp -d`).
// Postgres runs as the `postgres` OS user, which cannot enter that folder, neither for the data
// nor for the binaries in node_modules. The README's commands must still work, unchanged.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshEnvironment, getJson, repoRoot, run } from "./harness.ts";

const isRoot = process.getuid?.() === 0;

describe.skipIf(!isRoot)("as root, from a checkout under a 0700 home", () => {
  let home: string;
  let checkout: string;
  let env: Record<string, string | undefined>;
  const pnpmIn = (args: string[]) => run("pnpm", args, env, checkout);

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), "ops-root-home-"));
    expect(statSync(home).mode & 0o777).toBe(0o700);
    checkout = join(home, "deploy-ops");
    // The working tree as a clone would have it (tracked + new files, nothing ignored).
    const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: repoRoot, encoding: "utf8" })
      .split("\0")
      .filter(Boolean);
    for (const f of files) {
      mkdirSync(dirname(join(checkout, f)), { recursive: true });
      try {
        copyFileSync(join(repoRoot, f), join(checkout, f));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err; // deleted, not yet committed
      }
    }
    const install = await run("pnpm", ["install", "--offline", "--frozen-lockfile"], {}, checkout);
    expect(install.code, install.out).toBe(0);
    env = { ...(await freshEnvironment("root-home")), OPS_STATE_DIR: undefined };
  });

  afterAll(async () => {
    if (checkout) await pnpmIn(["ops:local", "down", "--purge", "--yes"]);
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("two `ops:local up` started together from cold both succeed, with one Postgres", async () => {
    const [a, b] = await Promise.all([pnpmIn(["ops:local", "up"]), pnpmIn(["ops:local", "up"])]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    const state = JSON.parse(readFileSync(join(checkout, ".ops", "local", "root-home", "postgres", "server.json"), "utf8"));
    expect(state.status).toBe("ready");
    const servers = execFileSync("pgrep", ["-f", `postgres -D ${state.dataDir}`], { encoding: "utf8" })
      .trim()
      .split("\n");
    expect(servers).toHaveLength(1);
  });

  it("the README's main command deploys and the release serves", async () => {
    const res = await pnpmIn(["turbo", "run", "production-deploy"]);
    expect(res.code, res.out).toBe(0);
    expect(res.out).not.toMatch(/EACCES/);
    const health = await getJson(`http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.backend.databaseReachable).toBe(true);
  });
});
