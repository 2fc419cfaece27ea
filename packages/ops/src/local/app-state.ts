import type { LocalPaths } from "./paths.ts";
import { readJson, writeJsonAtomic } from "./process-utils.ts";

/** One local release of an app. Its folder under `apps/<app>/releases/<id>/` never changes after it is made. */
export interface LocalRelease {
  id: string;
  createdAt: string;
  gitSha: string;
  runId: string;
  /** `serving` (the current one), `stopped` (kept for rollback), `failed` (never became healthy). */
  status: "serving" | "stopped" | "failed";
  /** Loopback port the release listens on while it runs. */
  port?: number;
  /** Supervisor pid while it runs. */
  supervisorPid?: number;
  /** Its run's smoke checks failed: skipped by default rollbacks (still reachable with `--to`). */
  failedSmoke?: boolean;
}

/** Per-app state of the local target: the serving release and the ones kept, newest first. */
export interface LocalAppState {
  current: string | null;
  releases: LocalRelease[];
}

/** How many releases are kept per app (folders of older ones are deleted). */
export const KEEP_RELEASES = 5;

export function readAppState(paths: LocalPaths, app: string): LocalAppState {
  return readJson<LocalAppState>(paths.appState(app)) ?? { current: null, releases: [] };
}

export function writeAppState(paths: LocalPaths, app: string, state: LocalAppState): void {
  writeJsonAtomic(paths.appState(app), state);
}

/**
 * The release a rollback goes back to: `to` if given, else the newest release older than the
 * current one that once served (not `failed`, and not from a run whose smoke checks failed).
 */
export function rollbackTarget(state: LocalAppState, to?: string): LocalRelease | undefined {
  if (to) return state.releases.find((r) => r.id === to && r.status !== "failed");
  const idx = state.releases.findIndex((r) => r.id === state.current);
  return state.releases.slice(idx + 1).find((r) => r.status !== "failed" && !r.failedSmoke);
}
