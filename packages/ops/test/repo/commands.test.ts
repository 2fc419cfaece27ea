/**
 * No pipeline task and no `pnpm ops:*` command runs tsx: each runs node on the prebuilt steps
 * (packages/ops/prebuild/run.mjs), after @repo/ops's build. The commands are read from the
 * package.json files and asked of turbo itself (`turbo run production-deploy --dry=json`: the
 * command, dependencies and inputs of every task it would run), not from our reading of turbo.json.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { sourceFiles } from "../../prebuild/sources.mjs";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const ENTRY = "packages/ops/prebuild/run.mjs";

interface DryTask {
  taskId: string;
  task: string;
  directory: string;
  command: string;
  dependencies: string[];
  inputs: Record<string, string>;
}

/** The tasks turbo plans for `turbo run <task>`, from its own dry run. */
function turboDryRun(task = "production-deploy"): DryTask[] {
  const turbo = join(dirname(createRequire(join(repoRoot, "package.json")).resolve("turbo/package.json")), "bin", "turbo");
  const out = execFileSync(process.execPath, [turbo, "run", task, "--dry=json"], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out) as { tasks: DryTask[] }).tasks;
}

/** `node <path to run.mjs> <script> …` (the path relative to the command's folder): the script's name, else undefined. */
function prebuiltScript(command: string, folder: string): string | undefined {
  const m = /^node (\S+) (\S+)( |$)/.exec(command);
  if (!m || resolve(repoRoot, folder, m[1]!) !== join(repoRoot, ENTRY)) return undefined;
  return existsSync(join(repoRoot, "scripts", `${m[2]}.ts`)) ? m[2] : undefined;
}

describe("root ops:* scripts", () => {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const ops = Object.entries(scripts).filter(([name]) => name.startsWith("ops:"));

  it("cover the runbook's commands", () => {
    expect(ops.map(([name]) => name).sort()).toEqual(
      ["history", "local", "lock", "logs", "migrate", "preflight", "rollback", "secrets", "smoke", "status"].map((n) => `ops:${n}`),
    );
  });

  it.each(ops)("%s runs node on the prebuilt entry of its script, never tsx", (name, command) => {
    expect(command).not.toMatch(/\btsx\b/);
    expect(prebuiltScript(command, "."), command).toBe(name.slice("ops:".length));
  });
});

describe("turbo run production-deploy (turbo's own dry run)", () => {
  const tasks = turboDryRun();
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const real = tasks.filter((t) => t.command !== "<NONEXISTENT>");
  const isBuild = (t: DryTask) => t.task === "build" || t.task === "production-build";
  const pipeline = real.filter((t) => !isBuild(t));
  const allDependencies = (id: string, seen = new Set<string>()): Set<string> => {
    for (const dep of byId.get(id)?.dependencies ?? []) if (!seen.has(dep)) allDependencies(dep, seen.add(dep));
    return seen;
  };

  it("plans the pipeline tasks (one deploy per app) and the builds", () => {
    expect(pipeline.map((t) => t.taskId).sort()).toEqual([
      "@repo/scripts#db-migrate",
      "@repo/scripts#production-artifacts",
      "@repo/scripts#production-clean",
      "@repo/scripts#production-deploy",
      "@repo/scripts#production-preflight",
      "@repo/scripts#production-smoke",
      "@repo/scripts#production-sync-secrets",
      "authentik#deploy",
      "backend#deploy",
      "client#deploy",
    ]);
    expect(real.filter(isBuild).map((t) => t.taskId)).toContain("@repo/ops#build");
    // Each build of the pipeline starts from emptied outputs: turbo restores a cache over a folder without emptying it.
    for (const build of ["client#production-build", "backend#production-build"])
      expect(allDependencies(build), build).toContain("@repo/scripts#production-clean");
  });

  it("runs no task with tsx", () => {
    expect(real.filter((t) => /\btsx\b/.test(t.command)).map((t) => `${t.taskId}: ${t.command}`)).toEqual([]);
  });

  it("runs every pipeline task as node on the prebuilt entry, after @repo/ops#build", () => {
    for (const t of pipeline) {
      expect(prebuiltScript(t.command, t.directory), `${t.taskId}: ${t.command}`).toBeDefined();
      expect(allDependencies(t.taskId), t.taskId).toContain("@repo/ops#build");
    }
    expect(byId.get("@repo/ops#build")!.command).toBe("node prebuild/build.mjs");
  });

  it("hashes every file the entry's freshness check reads, and ops.config.ts, into @repo/ops#build", () => {
    const build = byId.get("@repo/ops#build")!;
    const hashed = Object.keys(build.inputs).map((f) => resolve(repoRoot, build.directory, f));
    // The lockfile is in every task's hash already (turbo's global hash), not in a task's inputs list.
    const checked = [...sourceFiles(), "ops.config.ts"].filter((f) => f !== "pnpm-lock.yaml").map((f) => join(repoRoot, f));
    expect(checked.filter((f) => !hashed.includes(f))).toEqual([]);
    expect(sourceFiles()).toContain("pnpm-lock.yaml");
  });

  it("keeps `turbo run build` of the apps independent of the steps' build (the apps do not depend on @repo/ops)", () => {
    const builds = turboDryRun("build");
    const apps = builds.filter((t) => t.task === "build" && t.command !== "<NONEXISTENT>" && t.taskId !== "@repo/ops#build");
    expect(apps.map((t) => t.taskId)).toEqual(expect.arrayContaining(["backend#build", "client#build"]));
    for (const t of apps) expect(t.dependencies, t.taskId).not.toContain("@repo/ops#build");
  });
});
