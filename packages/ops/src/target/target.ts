/**
 * Where a deploy goes. Steps talk only to this interface; `local/target.ts` and `fly/target.ts`
 * implement it, and `target/factory.ts` picks one from `OPS_TARGET` / `--target`. Everything that
 * changes something comes back as plan actions (see plan/plan.ts), so a dry run prints exactly
 * what apply runs.
 */
import type { Action, Plan } from "../plan/plan.ts";
import type { PreflightCheck } from "../preflight/check.ts";
import type { Secret } from "../secrets/secret.ts";
import type { AppFingerprints } from "../secrets/ledger.ts";
import type { LogSelection } from "../logs/lines.ts";
import type { ArtifactSnapshot } from "../artifacts/snapshot.ts";

/** What {@link Target.currentReleases} gives for an app that has no release yet. */
export const NO_RELEASE = "(none)";

/** One app's release change, the same shape on every target (release ids, or `vN` on fly for releases not made by this tool). */
export interface AppRelease {
  app: string;
  previous: string | null;
  release: string;
}

/** What a deploy step records: the change plus target facts (fly version, image ref). */
export interface DeployOutcome extends AppRelease {
  /** Recorded in the run's step file; `previous`/`release` are always present. */
  detail: Record<string, unknown>;
}

/** Where a rollback of one app would go, computed without changing anything. */
export interface RollbackChoice {
  app: string;
  /** What serves now, for display. */
  from: string;
  /** For display: the release (and image) it goes back to; undefined when impossible. */
  to?: string;
  /** The value `--to` would take for this target, or undefined when impossible. */
  toArg?: string;
  /** The release id the app reports once rolled back (smoke expectation). */
  expectRelease?: string;
  /** When the target release was made (ISO), for "migrations applied since". */
  since?: string;
  /** Why it is impossible. */
  reason?: string;
}

/** What serves one app now compared with a run: all of it on the run's release, none, or part (a rolling deploy that failed halfway). */
export interface ServingState {
  state: "this-run" | "previous" | "mixed" | "none";
  /** For display: the release(s) and, on fly, the machines per image. */
  detail: string;
}

/** The database a target's lock, history and migrations live in. */
export interface TargetDatabase {
  /** The variable (or place) the URL comes from, for messages: `MIGRATION_DATABASE_URL`. */
  readonly source: string;
  /**
   * The URL. `start: true` may start a local database first (only apply does that).
   * @throws {ConfigError} when there is none (the fix says how to get one).
   */
  url(opts: { start: boolean }): Promise<Secret>;
  /** Actions that make the database reachable before a run (local: start Postgres); empty when it already is. */
  startActions(): Action[];
}

/** A secrets sync worked out: the plan, and what it staged once applied (recorded in the run). */
export interface SecretsSyncPlan {
  plan: Plan;
  /** After apply: the step detail to record (`staged` fingerprints, or `stagedFly` keys). */
  detail(): Record<string, unknown>;
  /** Apps whose staged secrets must still be applied when the sync runs alone (fly: `fly secrets deploy`). */
  applyActions(): Action[];
}

/** The processes of a target that runs on this machine (`pnpm ops:local`). */
export interface LocalProcesses {
  /** Restart the database and the current releases. */
  upPlan(): Promise<Plan>;
  /** Stop everything; `purge` also deletes the environment's local state. */
  downPlan(purge: boolean): Plan;
  publicUrl(): string;
}

/** What a database restore goes back to: a restore point (its id), or a point in time of the database's own history. */
export type RestoreSource = { restorePoint: string } | { time: Date };

/** Restoring the database from a restore point or a point in time (a target whose database can do that). */
export interface DatabaseRestore {
  /**
   * Reads what the restore would overwrite (the databases on the branch, where the current state
   * is preserved) and returns it as plan lines, the word the user types to confirm, and the actions.
   * @throws {RollbackError} when the source cannot be restored (unknown point, time outside the window).
   */
  plan(source: RestoreSource): Promise<{ lines: string[]; confirmWord: string; actions: Action[] }>;
  /** The restore point taken before migrations, as an action; undefined when the target has none. */
  restorePointAction(runId: string, onTaken: (id: string) => void): Action;
}

/** What `pnpm ops:logs` asks a target for: one source, a selection, and whether to keep following. */
export interface LogsRequest extends LogSelection {
  /** One of `logSources()`. */
  source: string;
  /** `--follow`: after the selected lines, print new ones until `signal` aborts. */
  follow: boolean;
  /** Aborted when following should end (Ctrl-C). */
  signal: AbortSignal;
}

export interface Target {
  /** For display only (`local`, `fly`). */
  readonly name: string;
  readonly database: TargetDatabase;
  /**
   * Repairs of what a killed run left behind (a release that serves but is not recorded, one that
   * runs but serves nothing). Runs under the deploy lock, first thing after taking it.
   */
  repairActions(): Action[];
  /**
   * The one line saying this target does not run `app` (the local target and an image-only app: no
   * container runtime), or undefined when it does. Steps that would deploy, smoke-check or roll back
   * such an app print the line instead and go on with the others.
   */
  notRunHere?(app: string): string | undefined;
  /** The preflight checks of this target, by group name. */
  preflightChecks(): Record<string, PreflightCheck>;
  /** For each app, whether what serves is run `runId`'s release, the one before, or a mix. Reads only. */
  servingNow(apps: string[], runId: string): Promise<Record<string, ServingState>>;
  /** The release id each app serves now ({@link NO_RELEASE} before its first deploy). */
  currentReleases(): Promise<Record<string, string>>;
  /** The file the secrets of this environment are read from (rotate writes it). */
  secretsFile(): string;
  /** Whether rotating a key must happen under the deploy lock and be staged at once (fly), or is picked up by the next deploy (local). */
  readonly rotateStagesAtOnce: boolean;
  /** Whether a deploy ships the app's local build outputs (local), so a pipeline run snapshots them first; fly's remote builder builds from the source. */
  readonly shipsBuildOutputs: boolean;
  /**
   * Works out a secrets sync for run `runId`: reads only; the plan's actions do the writes.
   * `create`: whether missing development secrets may be generated (false in a dry run or `list`).
   * `values`: values that replace those of the secrets file (rotate plans the staging of a value
   * its first action has not written yet).
   */
  planSecretsSync(runId: string, opts: { create: boolean; values?: ReadonlyMap<string, Secret> }): Promise<SecretsSyncPlan>;
  /**
   * Works out the deploy of one app for a run. `staged`: the fingerprints the sync step staged for
   * it (the deploy refuses values that moved since); undefined when the deploy runs alone.
   * `snapshot`: the run's read-only copy of the app's build (artifacts/snapshot.ts); a target that
   * ships local builds (local) copies the release from it after checking its digest, one whose
   * builder builds from the source (fly's remote builder) ignores it. Undefined when the deploy
   * runs alone: the current build output is used.
   * @throws {DeployError} when the app cannot be deployed (no build, no fly config).
   */
  planDeploy(
    app: string,
    run: { runId: string; gitSha: string },
    staged: AppFingerprints | undefined,
    snapshot?: ArtifactSnapshot,
  ): Promise<{ plan: Plan; outcome(): DeployOutcome }>;
  /** For each app, where a rollback would go (`wanted[app]`: a `--to` value). Reads only. */
  planRollback(apps: string[], wanted: Record<string, string | undefined>): Promise<RollbackChoice[]>;
  /** The actions that roll one app back to a possible choice, and what changed once applied (undefined until its redeploy ran). */
  rollbackActions(choice: RollbackChoice): { actions: Action[]; outcome(): AppRelease | undefined };
  /**
   * The public URL the smoke checks use, URLs that must not answer (an internal app's public
   * name), the URL of each other public app a smoke check names with `app` (none for an app not
   * run here), and, when the target can tell that no process could answer (local: the router or
   * an app's processes are gone), why: the checks then fail at once instead of retrying to their deadline.
   */
  smokeTargets(): { baseUrl: string; mustNotAnswer: string[]; appUrls?: Record<string, string>; nothingServes?: string };
  /** Marks releases of a run whose smoke checks failed, so default rollbacks skip them. */
  markSmokeFailed(releases: AppRelease[]): void;
  /** Actions the last pipeline task runs before closing the run (fly: apply staged secrets of apps this run did not deploy). */
  finishActions(steps: Record<string, { detail: unknown }>): Action[];
  /** The names `pnpm ops:logs --app` takes: the apps of ops.config.ts, plus the target's own processes (local: `router`, `postgres`). */
  logSources(): string[];
  /**
   * Hands each selected log line of `req.source` to `onLine` (the caller emits and redacts it);
   * with `follow`, goes on with new lines until `req.signal` aborts, then resolves.
   * @throws {OpsError} when the source has no log (never deployed, never started).
   */
  logs(req: LogsRequest, onLine: (line: string) => void): Promise<void>;
  /** Prints what serves (tables) and returns it as data. */
  status(): Promise<unknown>;
  /** The database restore of this target, when it has one. */
  readonly restore?: DatabaseRestore;
  /** The processes on this machine, when the target runs here. */
  readonly processes?: LocalProcesses;
}
