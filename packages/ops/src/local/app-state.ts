import { previousServed, type ServedEntry } from "../release/previous.ts";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
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
  /** A rollback went away from it: skipped by default rollbacks (still reachable with `--to`). */
  rolledBack?: boolean;
}

/** Per-app state of the local target: the serving release and the ones kept, newest first. */
export interface LocalAppState {
  current: string | null;
  releases: LocalRelease[];
  /** Every switch of traffic, oldest first (state files written before it existed lack it). */
  served?: ServedEntry[];
}

/** How many releases are kept per app (folders of older ones are deleted). */
export const KEEP_RELEASES = 5;

const releaseSchema = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    gitSha: z.string(),
    runId: z.string(),
    status: z.enum(["serving", "stopped", "failed"]),
    port: z.number().int().optional(),
    supervisorPid: z.number().int().optional(),
    failedSmoke: z.boolean().optional(),
    rolledBack: z.boolean().optional(),
  })
  .strip();
const appStateSchema = z.object({
  current: z.string().nullable(),
  releases: z.array(releaseSchema),
  served: z.array(z.object({ release: z.string(), at: z.string(), via: z.enum(["deploy", "rollback", "restart"]) })).optional(),
});

/**
 * Rebuilt from the release folders (each has its release.json) when the state file is damaged:
 * every release known as stopped, none current; the repair step then records the one the router
 * serves.
 */
function rebuildFromFolders(paths: LocalPaths, app: string): LocalAppState {
  const dir = join(paths.appDir(app), "releases");
  const releases = (existsSync(dir) ? readdirSync(dir) : [])
    .map((id) => readJson<Partial<LocalRelease>>(join(dir, id, "release.json")))
    .filter((r): r is Partial<LocalRelease> & { id: string } => typeof r?.id === "string")
    .map((r) => ({
      id: r.id,
      createdAt: r.createdAt ?? "",
      gitSha: r.gitSha ?? "unknown",
      runId: r.runId ?? r.id,
      status: "stopped" as const,
    }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { current: null, releases };
}

const damagedSeen = new Set<string>();

/**
 * App state files found damaged by this process (each once), as messages for the reporter: the
 * state was rebuilt from the release folders, and the repairs record what the router serves.
 */
export function damagedAppStates(): string[] {
  return [...damagedSeen].map(
    (path) =>
      `${path} is damaged: rebuilt from the release folders and what runs (the serve history it held is lost, so a rollback goes to the newest older release); the next deploy, rollback or \`pnpm ops:local up\` writes it again`,
  );
}

/** Whether this process found the app's state file damaged. */
export function appStateWasDamaged(paths: LocalPaths, app: string): boolean {
  return damagedSeen.has(paths.appState(app));
}

/** The app's state, validated; a missing file is an empty state, a damaged one is rebuilt from the release folders. */
export function readAppState(paths: LocalPaths, app: string): LocalAppState {
  if (!existsSync(paths.appState(app))) return { current: null, releases: [] };
  const parsed = appStateSchema.safeParse(readJson<unknown>(paths.appState(app)));
  if (parsed.success) return parsed.data as LocalAppState;
  damagedSeen.add(paths.appState(app));
  return rebuildFromFolders(paths, app);
}

export function writeAppState(paths: LocalPaths, app: string, state: LocalAppState): void {
  writeJsonAtomic(paths.appState(app), state);
}

/** Why a release may not be a default rollback target, or undefined. */
export function skipReason(r: LocalRelease | undefined): string | undefined {
  if (!r) return "(pruned)";
  if (r.status === "failed") return "(never became healthy)";
  if (r.failedSmoke) return "(its smoke checks failed)";
  if (r.rolledBack) return "(rolled back)";
  return undefined;
}

/**
 * The release a rollback goes back to: `to` if given (any release that ever became healthy), else
 * the one that served before the current one (release/previous.ts). State written before the
 * serve history existed falls back to the newest older release that once served.
 */
export function rollbackChoice(state: LocalAppState, to?: string): { release: LocalRelease } | { reason: string } {
  const known = () => state.releases.map((r) => `${r.id}${skipReason(r) ? ` ${skipReason(r)}` : ""}`).join(", ") || "none";
  if (to) {
    const r = state.releases.find((x) => x.id === to && x.status !== "failed");
    return r ? { release: r } : { reason: `no release "${to}" that can serve (known: ${known()})` };
  }
  if (state.served?.length) {
    const choice = previousServed(state.served, state.current, (id) => skipReason(state.releases.find((r) => r.id === id)));
    return "release" in choice ? { release: state.releases.find((r) => r.id === choice.release)! } : choice;
  }
  const idx = state.releases.findIndex((r) => r.id === state.current);
  const r = state.releases.slice(idx + 1).find((x) => !skipReason(x));
  return r ? { release: r } : { reason: "no earlier release that served" };
}

/** `rollbackChoice` as a release or undefined. */
export function rollbackTarget(state: LocalAppState, to?: string): LocalRelease | undefined {
  const c = rollbackChoice(state, to);
  return "release" in c ? c.release : undefined;
}
