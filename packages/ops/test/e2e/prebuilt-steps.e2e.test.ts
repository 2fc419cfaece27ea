// The prebuilt steps on a fresh copy of the working tree (what `git clone` gives: tracked and
// unignored files, no node_modules, no dist, no turbo cache): `pnpm install` then
// `pnpm turbo run production-deploy` builds the steps inside that one command, and an edit to
// scripts/deploy.ts takes effect on the next run with no extra command.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshEnvironment, repoRoot, run, tempDir } from "./harness.ts";

/** Copies the files `git clone` would give (tracked, plus untracked but not ignored) into a new temp folder. */
function cloneOfWorkingTree(): string {
  const dir = tempDir("ops-clone-");
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
  for (const file of listed.split("\0").filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
  return dir;
}

describe("prebuilt steps on a fresh clone", () => {
  let clone: string;
  let env: Record<string, string | undefined>;
  const inClone = (file: string, args: string[]) => run(file, args, env, clone);

  beforeAll(async () => {
    clone = cloneOfWorkingTree();
    env = await freshEnvironment("e2e-prebuilt");
    const install = await inClone("pnpm", ["install", "--offline", "--frozen-lockfile"]);
    expect(install.code, install.out).toBe(0);
  });

  afterAll(async () => {
    if (clone && env) await inClone("pnpm", ["ops:local", "down", "--purge", "--yes"]);
  });

  it("pnpm turbo run production-deploy builds the steps as a task of its own and deploys", async () => {
    expect(existsSync(join(clone, "packages/ops/dist"))).toBe(false);
    const res = await inClone("pnpm", ["turbo", "run", "production-deploy"]);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("@repo/ops:build: cache miss, executing");
    expect(res.out).toMatch(/@repo\/ops:build: prebuilt steps [0-9a-f]{16} in packages\/ops\/dist\//);
    expect(res.out).toMatch(/Deploy \d{8}-\d{6}-[0-9a-f]{4} succeeded/);
  });

  it("an edit to scripts/deploy.ts is rebuilt by the next run and runs in both deploy tasks", async () => {
    const file = join(clone, "scripts/deploy.ts");
    const line = "deploy entry edited by the prebuilt-steps e2e test";
    writeFileSync(file, readFileSync(file, "utf8").replace("await runOps(", `console.log(${JSON.stringify(line)});\nawait runOps(`));
    const res = await inClone("pnpm", ["turbo", "run", "production-deploy"]);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("@repo/ops:build: cache miss, executing");
    expect(res.out).toContain(`backend:deploy: ${line}`);
    expect(res.out).toContain(`client:deploy: ${line}`);
  });
});
