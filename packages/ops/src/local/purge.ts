import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative } from "node:path";
import { artifactStore } from "../artifacts/snapshot.ts";
import type { OpsEnv } from "../env.ts";

/** Everything the local target keeps for one environment (`ops:local down --purge` deletes it), existing paths only. */
export function purgeTargets(env: OpsEnv, dataDir: string, root: string): string[] {
  const { stateDir, environment } = env;
  // The fallback data folder under the OS temp dir goes with its own parent.
  const dataHome = basename(dirname(dataDir)).startsWith("deploy-ops-pg-") ? dirname(dataDir) : dataDir;
  const targets = [
    root,
    dataHome,
    join(stateDir, "current-run", `${environment}.json`),
    join(stateDir, "ledger", environment),
    join(stateDir, "smoke", environment),
    // The build snapshots its deploys shipped (read-only files in writable folders: removable).
    artifactStore(stateDir, environment),
  ];
  const runsDir = join(stateDir, "runs");
  if (existsSync(runsDir)) {
    for (const id of readdirSync(runsDir)) {
      try {
        if ((JSON.parse(readFileSync(join(runsDir, id, "run.json"), "utf8")) as { environment?: string }).environment === environment)
          targets.push(join(runsDir, id));
      } catch {
        // a run folder without run.json is not ours to judge
      }
    }
  }
  return targets.filter((t) => existsSync(t));
}

/**
 * How a purge target is shown: relative to the state folder when it is inside it (`local/local`),
 * else whole (the Postgres data folder under the OS temp dir), never as `../../..`.
 */
export function shownPurgeTarget(stateDir: string, target: string): string {
  const r = relative(stateDir, target);
  return r && !r.startsWith("..") && !isAbsolute(r) ? r : target;
}

/** Deletes `targets`; returns them as {@link shownPurgeTarget} shows them. */
export function purgeEnvironment(env: OpsEnv, targets: string[]): string[] {
  for (const t of targets) rmSync(t, { recursive: true, force: true });
  return targets.map((t) => shownPurgeTarget(env.stateDir, t));
}
