import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitOfSha, currentGitSha, shortSha } from "../src/git-info.ts";
import { createZxRunner } from "../src/runner/zx.ts";

let dir: string;
const runner = createZxRunner(process.env);
const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd: dir, encoding: "utf8" }).trim();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "git-info-"));
  git("init", "-q");
  writeFileSync(join(dir, "a.txt"), "one\n");
  writeFileSync(join(dir, ".gitignore"), ".ops/\n");
  git("add", ".");
  git("commit", "-q", "-m", "first");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("currentGitSha: what a run records as its tree", () => {
  it("is the commit for a clean tree, and ignored files keep it clean", async () => {
    writeFileSync(join(dir, ".gitignore"), ".ops/\n");
    execFileSync("mkdir", ["-p", join(dir, ".ops")]);
    writeFileSync(join(dir, ".ops", "state.json"), "{}");
    expect(await currentGitSha(runner, dir)).toBe(git("rev-parse", "HEAD"));
  });

  it.each([
    ["a modified file", () => writeFileSync(join(dir, "a.txt"), "two\n")],
    ["an untracked file", () => writeFileSync(join(dir, "new.ts"), "x\n")],
    ["a staged change", () => (writeFileSync(join(dir, "a.txt"), "three\n"), git("add", "a.txt"))],
  ])("is <sha>-dirty with %s", async (_what, change) => {
    change();
    expect(await currentGitSha(runner, dir)).toBe(`${git("rev-parse", "HEAD")}-dirty`);
  });

  it("is unknown outside a git checkout", async () => {
    const plain = mkdtempSync(join(tmpdir(), "no-git-"));
    try {
      expect(await currentGitSha(runner, plain)).toBe("unknown");
    } finally {
      rmSync(plain, { recursive: true, force: true });
    }
  });
});

describe("shortSha / commitOfSha", () => {
  it.each([
    ["0123456789abcdef0123456789abcdef01234567", 7, "0123456"],
    ["0123456789abcdef0123456789abcdef01234567-dirty", 7, "0123456-dirty"],
    ["0123456789abcdef0123456789abcdef01234567-dirty", 12, "0123456789ab-dirty"],
    ["unknown", 7, "unknown"],
  ])("shortSha(%j, %d) = %j", (sha, n, short) => {
    expect(shortSha(sha, n)).toBe(short);
  });
  it("commitOfSha drops only the dirty mark", () => {
    expect(commitOfSha("abc123-dirty")).toBe("abc123");
    expect(commitOfSha("abc123")).toBe("abc123");
  });
});
