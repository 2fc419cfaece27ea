/**
 * The prebuilt entry (prebuild/run.mjs) never runs a stale build: on a copy of the package, the
 * scripts and the config, an edit to an entry script, a library module or ops.config.ts is seen
 * by the next run; a file that does not compile is refused with where and the fix; runs
 * that find the build stale at once end with one complete build.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const opsDir = join(repoRoot, "packages/ops");
const copy = mkdtempSync(join(tmpdir(), "ops-prebuild-"));
const entry = join(copy, "packages/ops/prebuild/run.mjs");
const dist = join(copy, "packages/ops/dist");

function runEntry(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [entry, ...args], {
      cwd: copy,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: copy,
        NO_COLOR: "1",
        OPS_TARGET: "local",
        OPS_ENV: "prebuild",
        OPS_STATE_DIR: join(copy, "state"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => done({ code, out }));
  });
}

const builds = () =>
  readdirSync(dist)
    .filter((d) => !d.startsWith("."))
    .sort();
const edit = (file: string, change: (text: string) => string) =>
  writeFileSync(join(copy, file), change(readFileSync(join(copy, file), "utf8")));

beforeAll(() => {
  for (const name of ["src", "prebuild", "package.json"]) cpSync(join(opsDir, name), join(copy, "packages/ops", name), { recursive: true });
  symlinkSync(join(opsDir, "node_modules"), join(copy, "packages/ops/node_modules"));
  symlinkSync(join(repoRoot, "node_modules"), join(copy, "node_modules"));
  mkdirSync(join(copy, "scripts"));
  for (const f of readdirSync(join(repoRoot, "scripts")).filter((f) => f.endsWith(".ts")))
    cpSync(join(repoRoot, "scripts", f), join(copy, "scripts", f));
  for (const f of ["ops.config.ts", "pnpm-workspace.yaml", "pnpm-lock.yaml"]) cpSync(join(repoRoot, f), join(copy, f));
});
afterAll(() => rmSync(copy, { recursive: true, force: true }));

// Each test builds with esbuild in a child process: seconds on a loaded 2-core machine, so a hang
// guard well above vitest's 5 s default.
describe("prebuild/run.mjs", { timeout: 120_000 }, () => {
  it("builds on the first run, then runs the same build without building again", async () => {
    const first = await runEntry(["status"]);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain("▶ status  target=local env=prebuild");
    const [build] = builds();
    const record = readFileSync(join(dist, build!, "build.json"), "utf8");
    const second = await runEntry(["status"]);
    expect(second.code, second.out).toBe(0);
    expect(builds()).toEqual([build]);
    expect(readFileSync(join(dist, build!, "build.json"), "utf8")).toBe(record);
  });

  it("sees an edit to an entry script on the next run", async () => {
    const before = builds();
    edit("scripts/status.ts", (t) => t.replace("await runOps(", 'console.log("edited entry script");\nawait runOps('));
    const res = await runEntry(["status"]);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("edited entry script");
    expect(builds()).toHaveLength(before.length + 1);
  });

  it("sees an edit to a library module on the next run", async () => {
    edit("packages/ops/src/steps/status.ts", (t) => `${t}\nconsole.log("edited library module");\n`);
    const res = await runEntry(["status"]);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("edited library module");
  });

  it("loads ops.config.ts as edited: a new mistake there is reported by the next run", async () => {
    edit("ops.config.ts", (t) => t.replace('project: "deploy-ops-demo"', 'projct: "deploy-ops-demo"'));
    const res = await runEntry(["status"]);
    expect(res.code).not.toBe(0);
    expect(res.out).toContain('unknown key "projct"; did you mean project?');
    edit("ops.config.ts", (t) => t.replace('projct: "deploy-ops-demo"', 'project: "deploy-ops-demo"'));
    expect((await runEntry(["status"])).code).toBe(0);
  });

  it("refuses a script that does not compile, naming file:line and the fix, and runs none of it", async () => {
    const good = readFileSync(join(copy, "scripts/status.ts"), "utf8");
    const before = builds();
    edit("scripts/status.ts", (t) => `console.log("must not run");\n${t}\nconst broken = ;\n`);
    const res = await runEntry(["status"]);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/cannot run scripts\/status\.ts: its sources changed since the last build, and the steps do not build:\n/);
    expect(res.out).toMatch(/scripts\/status\.ts:\d+:\d+: Unexpected ";"/);
    expect(res.out).toContain("fix: Fix the error above, then rerun (or run pnpm --filter @repo/ops build).");
    expect(res.out).not.toContain("must not run");
    expect(builds()).toEqual(before);
    writeFileSync(join(copy, "scripts/status.ts"), good);
  });

  it("runs that find the build stale at once all run, and leave one complete build", async () => {
    edit("scripts/status.ts", (t) => `${t}\n// a change every run sees\n`);
    const before = builds();
    const runs = await Promise.all(Array.from({ length: 8 }, () => runEntry(["status"])));
    for (const r of runs) expect(r.code, r.out).toBe(0);
    const added = builds().filter((d) => !before.includes(d));
    expect(added).toHaveLength(1);
    expect(readdirSync(join(dist, added[0]!))).toContain("build.json");
  });

  it("refuses, naming the folder and the fix, when the build cannot be written", async () => {
    // A file where the builds folder should be (what a permission error gives when not root).
    renameSync(dist, `${dist}.moved`);
    writeFileSync(dist, "not a folder");
    try {
      edit("scripts/status.ts", (t) => `${t}\n// a change that needs a build\n`);
      const res = await runEntry(["status"]);
      expect(res.code).toBe(1);
      expect(res.out).toContain(`cannot write the prebuilt steps under ${dist}`);
      expect(res.out).toContain(`fix: Make ${dist} writable for this user, then rerun.`);
      expect(res.out).not.toContain("    at "); // no stack trace
    } finally {
      rmSync(dist);
      renameSync(`${dist}.moved`, dist);
    }
  });

  it("names the scripts it can run when asked for one that does not exist", async () => {
    const res = await runEntry(["deplyo"]);
    expect(res.code).toBe(2);
    expect(res.out).toContain("no entry script scripts/deplyo.ts");
    expect(res.out).toMatch(
      /run one of: artifacts, clean-builds, deploy, finish, history, local, lock, logs, migrate, preflight, rollback, secrets, smoke, status/,
    );
  });
});
