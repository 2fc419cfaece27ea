/**
 * The bench works on a fresh copy of the working tree (what `git clone` gives, plus uncommitted
 * edits), installed offline from the pnpm store, with its own state folder, environment and
 * loopback ports: it edits files and deploys there, never in the checkout.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { freePort } from "../src/local/process-utils.ts";
import { type Timed, timed, timedOk, timedWithCpu } from "./measure.ts";

export const repoRoot = resolve(import.meta.dirname, "../../..");

export interface Workspace {
  /** The copy's root. */
  dir: string;
  /** The environment every command runs with (local target, own state folder and ports, CI line output). */
  env: Record<string, string | undefined>;
  /** `node packages/ops/prebuild/run.mjs <script> …args` in the copy, as `pnpm ops:*` runs it; `nodeArgs` go before the entry. */
  step(
    script: string,
    args: string[],
    opts?: { nodeArgs?: string[]; env?: Record<string, string | undefined>; cwd?: string; cpu?: boolean },
  ): Promise<Timed>;
  /** `pnpm …args` in the copy. */
  pnpm(args: string[], env?: Record<string, string | undefined>): Promise<Timed>;
  /** Stops what the copy started and removes it. */
  close(): Promise<void>;
}

/** Copies the files `git clone` would give (tracked, plus untracked but not ignored) into `dir`. */
function copyWorkingTree(dir: string): void {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: repoRoot, encoding: "utf8" });
  for (const file of listed.split("\0").filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
}

/** The files of commit `ref` (`git archive`), for comparing with an earlier version. */
function extractCommit(ref: string, dir: string): void {
  const tar = execFileSync("git", ["archive", "--format=tar", ref], { cwd: repoRoot, maxBuffer: 512 * 1024 * 1024 });
  execFileSync("tar", ["-x", "-C", dir], { input: tar });
}

/**
 * A copy of the working tree (or, with `ref`, of that commit), installed, with an environment of
 * its own (`bench`, or `bench-<ref>`).
 */
export async function createWorkspace(log: (line: string) => void, ref?: string): Promise<Workspace> {
  const dir = mkdtempSync(join(tmpdir(), "ops-bench-"));
  const stateDir = mkdtempSync(join(tmpdir(), "ops-bench-state-"));
  log(`copying ${ref ? `commit ${ref}` : "the working tree"} to ${dir}`);
  if (ref) extractCommit(ref, dir);
  else copyWorkingTree(dir);
  const env: Record<string, string | undefined> = {
    OPS_TARGET: "local",
    OPS_ENV: ref ? `bench-${ref.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}` : "bench",
    OPS_STATE_DIR: stateDir,
    OPS_LOCAL_PG_PORT: String(await freePort()),
    OPS_LOCAL_CLIENT_PORT: String(await freePort()),
    OPS_LOCAL_BACKEND_PORT: String(await freePort()),
    DATABASE_URL: undefined,
    MIGRATION_DATABASE_URL: undefined,
    OPS_SECRETS_FILE: undefined,
    OPS_REPO_ROOT: undefined,
    CI: "1",
    NO_COLOR: "1",
    TURBO_TELEMETRY_DISABLED: "1",
  };
  const entry = join(dir, "packages/ops/prebuild/run.mjs");
  const ws: Workspace = {
    dir,
    env,
    step: (script, args, opts = {}) =>
      (opts.cpu ? timedWithCpu : timed)(process.execPath, [...(opts.nodeArgs ?? []), entry, script, ...args], {
        cwd: opts.cwd ?? dir,
        env: { ...env, ...opts.env },
      }),
    pnpm: (args, extra = {}) => timed("pnpm", args, { cwd: dir, env: { ...env, ...extra } }),
    async close() {
      await ws.pnpm(["ops:local", "down", "--purge", "--yes"]);
      rmSync(dir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  log("pnpm install --offline --frozen-lockfile");
  await timedOk("pnpm", ["install", "--offline", "--frozen-lockfile"], { cwd: dir, env });
  return ws;
}
