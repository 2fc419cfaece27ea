import { execFileSync, spawn } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../../src/local/process-utils.ts";

export const repoRoot = resolve(import.meta.dirname, "../../../..");

/**
 * The node arguments that run `scripts/<script>.ts` the way the root scripts and turbo tasks do:
 * through the prebuilt entry (packages/ops/prebuild/run.mjs), which runs the build of the current
 * sources (building it first if needed).
 */
export const prebuiltStep = (script: string, args: string[] = []) => [join(repoRoot, "packages/ops/prebuild/run.mjs"), script, ...args];

const created: string[] = [];
/** A temp folder removed by `cleanupTemp()` after the test file (test/e2e/setup.ts). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}
export function cleanupTemp(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Ran {
  code: number | null;
  out: string;
}

/**
 * The test's environment without what `pnpm turbo` (scripts/turbo.mjs) hands its own tasks: a step
 * these tests start belongs to no such run, even when the tests themselves run as a turbo task.
 */
export function inherited(): NodeJS.ProcessEnv {
  const { OPS_TURBO_RUN_ARGS: _args, OPS_INTERRUPT_FILE: _file, OPS_PIPELINE_RUN_ID: _runId, ...rest } = process.env;
  return rest;
}

/** Runs a command in the repo with `env` merged over the test's environment; stdout+stderr together. */
export function run(file: string, args: string[], env: Record<string, string | undefined>, cwd = repoRoot): Promise<Ran> {
  return new Promise((resolvePromise) => {
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...inherited(), ...env })) if (v !== undefined) merged[k] = v;
    const child = spawn(file, args, { cwd, env: merged, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolvePromise({ code, out }));
  });
}

/** A fresh local environment: its own state folder and free loopback ports. */
export async function freshEnvironment(name: string): Promise<Record<string, string | undefined>> {
  const stateDir = tempDir(`ops-e2e-${name}-`);
  return {
    OPS_STATE_DIR: stateDir,
    OPS_ENV: name,
    OPS_TARGET: "local",
    OPS_LOCAL_PG_PORT: String(await freePort()),
    OPS_LOCAL_CLIENT_PORT: String(await freePort()),
    OPS_LOCAL_BACKEND_PORT: String(await freePort()),
    DATABASE_URL: undefined,
    MIGRATION_DATABASE_URL: undefined,
    OPS_SECRETS_FILE: undefined,
    CI: "1",
  };
}

export const pnpm = (args: string[], env: Record<string, string | undefined>) => run("pnpm", args, env);

/** Every regular file under `dir` (recursively), for leak scans. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

export const readText = (p: string) => readFileSync(p, "utf8");

// biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON the app returns
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) };
}

/** The folders the apps' builds write (turbo.json `outputs` of `build`: `build/**`, `bin/**`). */
const APP_OUTPUTS = ["build", "bin"];

/**
 * `dst` as a folder holding a copy of `src`'s package.json and a link to every other entry of
 * `src`. `outputs` are made in `src` first when missing (a fresh clone has no build yet, and turbo
 * refuses a link to nothing), so a build the test runs later shows through the link.
 */
function linkPackage(src: string, dst: string, outputs: readonly string[] = []): void {
  mkdirSync(dst, { recursive: true });
  for (const name of outputs) mkdirSync(join(src, name), { recursive: true });
  for (const name of readdirSync(src)) {
    if (name === "package.json") copyFileSync(join(src, name), join(dst, name));
    else symlinkSync(join(src, name), join(dst, name));
  }
}

/**
 * A throwaway copy of the repository's operational files (config, turbo.json, migrations) with
 * the workspace's packages (apps, packages, scripts), protos and node_modules linked in, so a
 * test can break one file without touching the checkout. Entry scripts run prebuilt from the real
 * `scripts/` with `OPS_REPO_ROOT` pointing here (the copy's ops.config.ts is compiled on first load).
 */
export function tempRepo(opts: { opsConfig?: (text: string) => string; migrations?: Record<string, string | Buffer> } = {}) {
  const dir = tempDir("ops-repo-");
  for (const name of ["node_modules", "proto"]) symlinkSync(join(repoRoot, name), join(dir, name));
  // Each workspace package as a real folder with its own package.json and the rest linked: turbo
  // plans only packages whose package.json is inside the repository (preflight asks it for the plan).
  for (const group of ["apps", "packages"]) {
    for (const pkg of readdirSync(join(repoRoot, group)))
      linkPackage(join(repoRoot, group, pkg), join(dir, group, pkg), group === "apps" ? APP_OUTPUTS : []);
  }
  linkPackage(join(repoRoot, "scripts"), join(dir, "scripts"));
  for (const name of ["turbo.json", "pnpm-workspace.yaml", "package.json", ".dockerignore"])
    copyFileSync(join(repoRoot, name), join(dir, name));
  cpSync(join(repoRoot, "infra"), join(dir, "infra"), {
    recursive: true,
    filter: (src) => !/apps\.env$/.test(src) || src.endsWith(".example"),
  });
  const config = readFileSync(join(repoRoot, "ops.config.ts"), "utf8");
  writeFileSync(join(dir, "ops.config.ts"), opts.opsConfig ? opts.opsConfig(config) : config);
  mkdirSync(join(dir, "migrations"));
  const migrations =
    opts.migrations ??
    Object.fromEntries(readdirSync(join(repoRoot, "migrations")).map((f) => [f, readFileSync(join(repoRoot, "migrations", f))]));
  for (const [name, body] of Object.entries(migrations)) writeFileSync(join(dir, "migrations", name), body);
  return {
    dir,
    setConfig: (edit: (text: string) => string) => writeFileSync(join(dir, "ops.config.ts"), edit(config)),
    /** Runs `scripts/<script>.ts` (prebuilt) with the repo root pointed at this copy. */
    script: (script: string, args: string[], env: Record<string, string | undefined>) =>
      run(process.execPath, prebuiltStep(script, args), { ...env, OPS_REPO_ROOT: dir }, dir),
  };
}

/** The steps of `turbo run production-deploy`, in the order turbo runs them. */
export const PIPELINE_STEPS: [string, string[]][] = [
  ["preflight", ["--pipeline"]],
  ["secrets", ["sync", "--pipeline"]],
  ["migrate", ["--pipeline"]],
  ["artifacts", ["--pipeline"]],
  ["deploy", ["backend", "--pipeline"]],
  ["deploy", ["client", "--pipeline"]],
  ["smoke", ["--pipeline"]],
  ["finish", ["--pipeline"]],
];

/** Runs pipeline steps one by one against a temp repo, stopping at the first failure (as turbo does). */
export async function runPipeline(repo: ReturnType<typeof tempRepo>, env: Record<string, string | undefined>, steps = PIPELINE_STEPS) {
  const outs: string[] = [];
  for (const [script, args] of steps) {
    const res = await repo.script(script, args, env);
    outs.push(res.out);
    if (res.code !== 0) return { code: res.code, out: outs.join("\n"), failedAt: script as string | undefined };
  }
  return { code: 0 as number | null, out: outs.join("\n"), failedAt: undefined as string | undefined };
}

/** A process of a local environment as /proc shows it (the test's own reading, not the library's). */
export interface SeenProcess {
  pid: number;
  cwd: string;
  command: string;
  /** NUL-separated `KEY=value` pairs, as the kernel keeps them. */
  environ: string;
}

/**
 * Every process whose working folder lies under the environment's state folder (supervisors,
 * apps, the router, the Postgres entry and server), read from /proc. Linux only.
 */
export function environmentProcesses(env: Record<string, string | undefined>): SeenProcess[] {
  const root = join(env.OPS_STATE_DIR!, "local", env.OPS_ENV!);
  const dataDir = postgresDataDirOf(env);
  const inside = (cwd: string, dir: string) => cwd === dir || cwd.startsWith(`${dir}/`);
  const out: SeenProcess[] = [];
  for (const name of readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`);
      if (!inside(cwd, root) && !(dataDir && inside(cwd, dataDir))) continue;
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) continue;
      out.push({
        pid: Number(name),
        cwd,
        command: readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ").trim(),
        environ: readFileSync(`/proc/${name}/environ`, "utf8"),
      });
    } catch {
      // exited while read
    }
  }
  return out;
}

/** The Postgres data folder server.json names (as root under a private folder it lives under the OS temp dir). */
function postgresDataDirOf(env: Record<string, string | undefined>): string | undefined {
  try {
    return JSON.parse(readFileSync(join(env.OPS_STATE_DIR!, "local", env.OPS_ENV!, "postgres", "server.json"), "utf8")).dataDir;
  } catch {
    return undefined;
  }
}

/**
 * The environment's long-lived processes by kind: supervisors and apps under `apps/`, the router,
 * the Postgres entry process and the postgres server (its own helper processes are not counted).
 */
export function countProcesses(env: Record<string, string | undefined>): Record<string, number> {
  const root = join(env.OPS_STATE_DIR!, "local", env.OPS_ENV!);
  const counts: Record<string, number> = { supervisor: 0, app: 0, router: 0, "postgres entry": 0, "postgres server": 0 };
  for (const p of environmentProcesses(env)) {
    if (p.cwd.startsWith(join(root, "apps"))) counts[p.command.includes("supervisor-main") ? "supervisor" : "app"]!++;
    else if (p.cwd === join(root, "router")) counts.router!++;
    else if (p.cwd === join(root, "postgres")) counts["postgres entry"]!++;
    else if (/\/postgres -D /.test(p.command)) counts["postgres server"]!++;
  }
  return counts;
}

/**
 * Sends `signal` to every process of session `sid` (a pipeline started by {@link startPipeline}:
 * turbo runs each task in a process group of its own, so the group of `pnpm` does not reach them).
 */
export function signalSession(sid: number, signal: NodeJS.Signals): void {
  const pids = execFileSync("ps", ["-s", String(sid), "-o", "pid="], { encoding: "utf8" })
    .split("\n")
    .map((l) => Number(l.trim()))
    .filter((pid) => pid > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/** A `pnpm turbo run production-deploy` started in a session of its own, watched while it runs. */
export interface RunningPipeline {
  /** The pid of `pnpm`: it leads the process group a terminal's Ctrl-C reaches, and the session of every task. */
  pid: number;
  output(): string;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs` with the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code and the whole output once the process group leader exits. */
  done: Promise<Ran>;
}

export function startPipeline(env: Record<string, string | undefined>, args: string[] = []): RunningPipeline {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...inherited(), ...env })) if (v !== undefined) merged[k] = v;
  const child = spawn("pnpm", ["turbo", "run", "production-deploy", ...args], {
    cwd: repoRoot,
    env: merged,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const done = new Promise<Ran>((resolvePromise) => child.on("close", (code) => resolvePromise({ code, out })));
  let exited = false;
  void done.then(() => (exited = true));
  return {
    pid: child.pid!,
    output: () => out,
    done,
    async waitFor(pattern, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(pattern);
        if (m) return m;
        if (exited || Date.now() > deadline) throw new Error(`never saw ${pattern}${exited ? " (the pipeline ended)" : ""}:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}
