/**
 * Neon restore points and the database rollback built on them (Neon API v2: create branch
 * `POST /projects/{project_id}/branches`, restore branch `POST …/branches/{branch_id}/restore` with
 * `BranchRestoreRequest`, and `GET /projects/{project_id}/operations/{operation_id}`; Neon docs
 * "Branch Restore" and "System operations").
 *
 * Before migrating, {@link createRestorePoint} branches the production branch at its head, with no
 * compute (cheap), named `restore-<runId>`. To roll the database back, {@link planDatabaseRestore}
 * (from a restore point) or {@link planDatabaseRestoreToTime} (from the branch's own history at a
 * time inside the restore window) reads the branches and says exactly what will be overwritten;
 * {@link applyDatabaseRestore} then restores the production branch, always with
 * `preserve_under_name` (required: the restore point is a child of production, and a restore from
 * the branch's own history needs it too), so the state being overwritten is kept as a branch that
 * becomes production's parent and takes over production's children, the restore point among
 * them; the point stays plannable after that.
 *
 * The restore window (`history_retention_seconds`) is a project setting the documented API only
 * writes (PATCH project), so it is not read from Neon: the caller passes it from configuration
 * ({@link RestoreWindow}), and Neon still refuses a time outside its real window.
 *
 * Every mutating call returns `operations`; {@link pollOperations} waits for each to reach a
 * terminal status before anything else touches the project (otherwise Neon answers 423).
 */
import type { Branch, Operation } from "@neondatabase/api-client";
import { MigrationError, OpsError, RollbackError, UsageError } from "../errors.ts";
import { NeonApiError, type NeonClient } from "./client.ts";

/** Statuses (`Operation.status`) that mean the operation did not do its work. */
const FAILED_STATUSES = new Set(["failed", "error", "cancelled"]);
/** Statuses after which an operation will not change any more. */
const TERMINAL_STATUSES = new Set(["finished", "skipped", ...FAILED_STATUSES]);

/** A Neon operation as far as polling needs it (`Operation` fields). */
export type NeonOperation = Pick<Operation, "id" | "action" | "status"> & Partial<Pick<Operation, "error" | "branch_id">>;

export interface PollOptions {
  /** Wait between two rounds of `GET /projects/{project_id}/operations/{operation_id}`, in milliseconds. Neon suggests about 5 s. @default 5000 */
  intervalMs?: number;
  /** Give up when operations are still pending after this long, in milliseconds. @default 600000 (10 min) */
  timeoutMs?: number;
}

/** An operation that ended `failed`, `error` or `cancelled`, or did not end in time. */
export class NeonOperationError extends OpsError {
  /** `Operation.id`. */
  readonly operationId: string;
  /** `Operation.action`, e.g. `create_branch`. */
  readonly action: string;
  /** Last `Operation.status` seen. */
  readonly status: string;
  constructor(message: string, op: NeonOperation, projectId: string, fix: string) {
    super("E_COMMAND", message, { where: `Neon project ${projectId}, operation ${op.id}`, fix });
    this.operationId = op.id;
    this.action = op.action;
    this.status = op.status;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const opLabel = (op: NeonOperation) => `${op.id} (${op.action}${op.branch_id ? ` on ${op.branch_id}` : ""})`;

/**
 * Waits until every operation in `operations` (the `operations` array of a mutating response)
 * reaches a terminal `Operation.status`: polls `GET /projects/{project_id}/operations/{operation_id}`
 * every `intervalMs`. Resolves with the final operations when all are `finished` or `skipped`.
 * Pending: `scheduling`, `running`, `cancelling` and any status Neon may add later.
 * @throws {NeonOperationError} naming the operation id and action when one ends `failed`, `error`
 * or `cancelled`, or when some are still pending after `timeoutMs`.
 */
export async function pollOperations(
  client: NeonClient,
  projectId: string,
  operations: readonly NeonOperation[],
  opts: PollOptions = {},
): Promise<NeonOperation[]> {
  const intervalMs = opts.intervalMs ?? 5000;
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const started = Date.now();
  const current = new Map(operations.map((op) => [op.id, op]));

  const check = (op: NeonOperation) => {
    if (!FAILED_STATUSES.has(op.status)) return;
    throw new NeonOperationError(
      `Neon operation ${opLabel(op)} ended "${op.status}"${op.error ? `: ${op.error}` : ""}`,
      op,
      projectId,
      `See the operation in the Neon console (project ${projectId} → Monitoring → System operations) or with \`neonctl operations list --project-id ${projectId}\`; fix the cause and run this again.`,
    );
  };

  for (;;) {
    for (const op of current.values()) check(op);
    const pending = [...current.values()].filter((op) => !TERMINAL_STATUSES.has(op.status));
    if (pending.length === 0) return [...current.values()];
    if (Date.now() - started >= timeoutMs) {
      const first = pending[0] as NeonOperation;
      throw new NeonOperationError(
        `Neon operation${pending.length > 1 ? "s" : ""} still not done after ${Math.round(timeoutMs / 1000)} s: ${pending.map((op) => `${opLabel(op)} is "${op.status}"`).join(", ")}`,
        first,
        projectId,
        `Wait until \`neonctl operations list --project-id ${projectId}\` shows ${pending.length > 1 ? "them" : "it"} finished, then run this again (it is safe to re-run).`,
      );
    }
    await sleep(intervalMs);
    for (const op of pending) {
      const { operation } = await client.call((api) => api.getProjectOperation(projectId, op.id));
      current.set(op.id, operation);
    }
  }
}

/** A restore point: a branch of the production branch holding its state at one moment. */
export interface RestorePoint {
  /** `branch.id` of the restore point branch. */
  branchId: string;
  /** `branch.name`: `restore-<runId>`. */
  name: string;
  /** `branch.parent_timestamp`: the moment of the production branch's history it holds (ISO 8601); `branch.created_at` when Neon left it empty. */
  parentTimestamp: string;
  /** `branch.created_at` (ISO 8601). */
  createdAt: string;
  /** True when a branch with this name already existed for this run and was reused (re-run of the step). */
  reused: boolean;
}

export interface CreateRestorePointOptions {
  /** Neon project id (`project_id`). */
  projectId: string;
  /** The production branch id (`br-…`), the restore point's `parent_id`. */
  branchId: string;
  /** Deploy run id; the branch is named `restore-<runId>`. */
  runId: string;
  /** Current time, for `expires_at`. @default new Date() */
  now?: Date;
  /** Sets `branch.expires_at` to now + this many seconds, so Neon deletes the restore point by itself (an Early Access feature). @default unset (kept until deleted) */
  expiresInSeconds?: number;
  /** How operations are polled. */
  poll?: PollOptions;
}

/** The name of the restore point of a run. */
export function restorePointName(runId: string): string {
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(runId)) {
    throw new UsageError(`run id "${runId}" cannot be part of a Neon branch name`, {
      fix: "Use a run id of letters, digits, '.', '_' and '-' (at most 200 characters).",
    });
  }
  return `restore-${runId}`;
}

/** RFC 3339 with second precision, as `expires_at` requires (`2025-06-09T18:02:16Z`). */
const toSecondPrecision = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

const asRestorePoint = (b: Branch, reused: boolean): RestorePoint => ({
  branchId: b.id,
  name: b.name,
  parentTimestamp: b.parent_timestamp ?? b.created_at,
  createdAt: b.created_at,
  reused,
});

/**
 * Creates the restore point of a run: `POST /projects/{project_id}/branches` with body
 * `{ branch: { parent_id, name: "restore-<runId>" [, expires_at] } }`: no `parent_lsn` or
 * `parent_timestamp` (so the branch holds the parent's head, now, with no clock skew) and no
 * `endpoints` (so no compute is started). Then waits for the returned `operations`
 * (`create_branch`). Safe to re-run: a ready branch of the same name with the same parent, found
 * with `GET /projects/{project_id}/branches?search=<name>`, is reused.
 * @throws {NeonApiError} when a call fails; {@link NeonOperationError} when `create_branch` fails;
 * {@link MigrationError} when the name is taken by a branch of another parent, or is still initializing;
 * {@link UsageError} when `runId` cannot be part of a branch name.
 */
export async function createRestorePoint(client: NeonClient, opts: CreateRestorePointOptions): Promise<RestorePoint> {
  const name = restorePointName(opts.runId);
  const { branches } = await client.call((api) => api.listProjectBranches({ projectId: opts.projectId, search: name }));
  const existing = branches.find((b) => b.name === name);
  if (existing) {
    if (existing.parent_id !== opts.branchId) {
      throw new MigrationError(
        `a Neon branch named ${name} (${existing.id}) already exists but was branched from ${existing.parent_id ?? "nothing"}, not from ${opts.branchId}`,
        {
          where: `Neon project ${opts.projectId}`,
          fix: `Delete or rename branch ${existing.id}, or start a new run (a new run id), then migrate again.`,
        },
      );
    }
    if (existing.current_state !== "ready") {
      throw new MigrationError(`the restore point ${name} (${existing.id}) exists but is still "${existing.current_state}"`, {
        where: `Neon project ${opts.projectId}`,
        fix: "Wait a few seconds until the branch is ready, then run the migrate step again.",
      });
    }
    return asRestorePoint(existing, true);
  }

  const now = opts.now ?? new Date();
  const body = {
    branch: {
      parent_id: opts.branchId,
      name,
      ...(opts.expiresInSeconds !== undefined
        ? { expires_at: toSecondPrecision(new Date(now.getTime() + opts.expiresInSeconds * 1000)) }
        : {}),
    },
  };
  const created = await client.call((api) => api.createProjectBranch(opts.projectId, body));
  await pollOperations(client, opts.projectId, created.operations, opts.poll);
  return asRestorePoint(created.branch, false);
}

/** The project's restore window as configured (Neon's `history_retention_seconds`), and where the number comes from. */
export interface RestoreWindow {
  seconds: number;
  /** For the plan: `NEON_HISTORY_RETENTION_SECONDS in infra/fly/apps.env`, or the default and why. */
  from: string;
}

/** What a restore will do, read from Neon before anything changes. */
export interface RestorePlan {
  projectId: string;
  /** The branch that will be overwritten (every database on it, schema and data). */
  target: {
    /** `branch.id`. */
    branchId: string;
    /** `branch.name`. */
    name: string;
    /** The head being overwritten: the time the plan was made (ISO 8601). Everything written between `source.timestamp` and now is replaced. */
    headAt: string;
    /** `branch.updated_at`. */
    updatedAt: string;
  };
  /** Where the data comes from: a restore point's head, or the target's own history at a time. */
  source:
    | {
        kind: "restore-point";
        /** `branch.id` of the restore point (sent as `source_branch_id`). */
        branchId: string;
        /** `branch.name`. */
        name: string;
        /** The moment of the target's history it holds: its `branch.parent_timestamp` (else `created_at`). */
        timestamp: string;
      }
    | {
        kind: "time";
        /** The target itself (sent as `source_branch_id`). */
        branchId: string;
        name: string;
        /** Sent as `source_timestamp` (ISO 8601, UTC). */
        timestamp: string;
        /** The window the time was checked against. */
        window: RestoreWindow;
      };
  /** `preserve_under_name`: the branch the current state is kept under, `<branch>_pre_restore_<YYYYMMDDTHHMMSSZ>`. */
  preserveUnderName: string;
}

export interface PlanDatabaseRestoreOptions {
  projectId: string;
  /** The branch to overwrite (production). */
  branchId: string;
  /** The restore point's branch id (from {@link createRestorePoint}). */
  restorePointBranchId: string;
  /** Current time. @default new Date() */
  now?: Date;
}

/** `YYYYMMDDTHHMMSSZ`, for branch names. */
const compactUtc = (d: Date) =>
  d
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");

/** `<branch>_pre_restore_<YYYYMMDDTHHMMSSZ>`, at most 256 characters (Neon's branch name limit). */
export function preservedBranchName(branchName: string, at: Date): string {
  const suffix = `_pre_restore_${compactUtc(at)}`;
  return `${branchName.slice(0, 256 - suffix.length)}${suffix}`;
}

/** `6 h 20 min`, `1 day`, `45 s`: seconds below an hour are shown only for short spans. */
function formatSeconds(total: number): string {
  const units: [number, string][] = [
    [86_400, "day"],
    [3600, "h"],
    [60, "min"],
    [1, "s"],
  ];
  const parts: string[] = [];
  let left = Math.max(0, Math.floor(total));
  for (const [size, unit] of units) {
    const n = Math.floor(left / size);
    left -= n * size;
    if (n === 0 || (unit === "s" && total >= 3600)) continue;
    parts.push(unit === "day" ? `${n} day${n === 1 ? "" : "s"}` : `${n} ${unit}`);
  }
  return parts.length > 0 ? parts.join(" ") : "0 s";
}

/** The longest chain of parents walked while looking for a restore point's origin (guards against a cycle). */
const MAX_ANCESTORS = 100;

/**
 * Prefixes of the names a restore gives the branch that keeps `branchName`'s overwritten state:
 * ours (`<branch>_pre_restore_<time>`, {@link preservedBranchName}) and the one the Neon console
 * and neonctl use (`<branch>_old_<time>`).
 */
function preservedNamePrefixes(branchName: string): string[] {
  const ours = preservedBranchName(branchName, new Date(0)).replace(/\d{8}T\d{6}Z$/, "");
  return [ours, `${branchName}_old_`];
}

/**
 * Whether `point` was made off `target`, read from Neon. Before any restore the point is a child of
 * the target. A restore with `preserve_under_name` moves all the target's children to the
 * preserved branch, which becomes the target's parent (Neon API `BranchRestoreRequest`; neonctl
 * `branches restore` shows that parent as the "Backup branch"). So after one or more restores the
 * point is a child of one of the target's preserved branches: the target's ancestors, up to the
 * first that is not named as a preserved branch of the target.
 */
async function madeOffTarget(client: NeonClient, projectId: string, target: Branch, point: Branch): Promise<boolean> {
  if (point.parent_id === target.id) return true;
  const prefixes = preservedNamePrefixes(target.name);
  const seen = new Set<string>([target.id]);
  let parentId = target.parent_id;
  while (parentId !== undefined && !seen.has(parentId) && seen.size <= MAX_ANCESTORS) {
    seen.add(parentId);
    const id = parentId;
    const { branch: ancestor } = await client.call((api) => api.getProjectBranch(projectId, id));
    if (!prefixes.some((p) => ancestor.name.startsWith(p))) return false;
    if (point.parent_id === ancestor.id) return true;
    parentId = ancestor.parent_id;
  }
  return false;
}

/**
 * Reads what a restore of `branchId` from the restore point would overwrite, changing nothing:
 * `GET /projects/{project_id}/branches/{branch_id}` for the target (`name`, `updated_at`) and for
 * the restore point (`parent_id`, `parent_timestamp`, `current_state`). A restore point stays
 * plannable after the target was restored (from it or from another one): the point is then a
 * child of a branch that preserved the target's state, which the target's parent chain reaches
 * (read with one `GET …/branches/{branch_id}` per ancestor). The restore window does not apply:
 * the restore copies the restore point's head, which is its own data, not the target's history.
 * @throws {RollbackError} when the restore point does not exist (404), was not made off the target,
 * is not `ready`, or has no readable timestamp.
 * @throws {NeonApiError} when a call fails otherwise (a wrong target branch id is a 404 too).
 */
export async function planDatabaseRestore(client: NeonClient, opts: PlanDatabaseRestoreOptions): Promise<RestorePlan> {
  const now = opts.now ?? new Date();
  const { branch: target } = await client.call((api) => api.getProjectBranch(opts.projectId, opts.branchId));
  const where = `Neon project ${opts.projectId}, branch ${target.name} (${target.id})`;
  const listFix =
    "`pnpm ops:history` lists the restore point of each run (column RESTORE POINT); pass one with `pnpm ops:rollback --db --restore-point br-…`";
  let point: Branch;
  try {
    ({ branch: point } = await client.call((api) => api.getProjectBranch(opts.projectId, opts.restorePointBranchId)));
  } catch (err) {
    if (!(err instanceof NeonApiError) || err.status !== 404) throw err;
    throw new RollbackError(
      `restore point ${opts.restorePointBranchId} not found: Neon project ${opts.projectId} has no branch with that id (GET …/branches/${opts.restorePointBranchId} answered 404)`,
      {
        where,
        fix: `Check the id: ${listFix}. A restore point deleted in Neon cannot be restored; roll forward with a new migration instead.`,
        cause: err,
      },
    );
  }

  if (!(await madeOffTarget(client, opts.projectId, target, point))) {
    throw new RollbackError(
      `${point.name} (${point.id}) is not a restore point of ${target.name} (${target.id}): its parent is ${point.parent_id ?? "none (a root branch)"}, which is neither ${target.name} nor a branch that kept ${target.name}'s state in a restore`,
      {
        where,
        fix: `Restore from a restore point taken off ${target.name}: ${listFix}. If ${point.name} is the one you want, NEON_BRANCH_ID in infra/fly/apps.env (now ${target.id}) names the wrong branch.`,
      },
    );
  }
  if (point.current_state !== "ready") {
    throw new RollbackError(`the restore point ${point.name} (${point.id}) is "${point.current_state}", not ready`, {
      where,
      fix: "Wait until the branch is ready (its create_branch operation finished), then run the rollback again.",
    });
  }
  const timestamp = point.parent_timestamp ?? point.created_at;
  if (Number.isNaN(Date.parse(timestamp))) {
    throw new RollbackError(
      `the restore point ${point.name} (${point.id}) has no readable parent_timestamp or created_at ("${timestamp}"), so its age against the restore window is unknown`,
      {
        where,
        fix: `Check the branch in the Neon console; restore by hand only after checking its data (neonctl branches restore ${target.name} ${point.id} --preserve-under-name <name>).`,
      },
    );
  }
  return {
    projectId: opts.projectId,
    target: { branchId: target.id, name: target.name, headAt: now.toISOString(), updatedAt: target.updated_at },
    source: { kind: "restore-point", branchId: point.id, name: point.name, timestamp },
    preserveUnderName: preservedBranchName(target.name, now),
  };
}

export interface PlanRestoreToTimeOptions {
  projectId: string;
  /** The branch to overwrite (production); also the source of the data (its own history). */
  branchId: string;
  /** The point in time to go back to (already parsed, e.g. by `parseRestoreTime`). */
  at: Date;
  /** The project's restore window, from configuration. */
  window: RestoreWindow;
  /** Current time. @default new Date() */
  now?: Date;
}

/**
 * Plans a restore of `branchId` from its own history at `at` (Neon API `BranchRestoreRequest` with
 * `source_branch_id` = the branch itself and `source_timestamp`), changing nothing: reads the branch
 * (`GET …/branches/{branch_id}`: `name`, `created_at`, `updated_at`).
 * @throws {RollbackError} when `at` is in the future, before the start of the restore window
 * (`now - window.seconds`), or before the branch was created.
 * @throws {NeonApiError} when the call fails.
 */
export async function planDatabaseRestoreToTime(client: NeonClient, opts: PlanRestoreToTimeOptions): Promise<RestorePlan> {
  const now = opts.now ?? new Date();
  const { branch: target } = await client.call((api) => api.getProjectBranch(opts.projectId, opts.branchId));
  const where = `Neon project ${opts.projectId}, branch ${target.name} (${target.id})`;
  const at = opts.at.toISOString();
  if (opts.at.getTime() > now.getTime()) {
    throw new RollbackError(`--to ${at} is in the future (now is ${now.toISOString()}); nothing was restored`, {
      where,
      fix: "Give a time in the past, just before the change to undo (the migrate step's restore point time is in `pnpm ops:history`).",
    });
  }
  const windowStart = new Date(now.getTime() - opts.window.seconds * 1000);
  if (opts.at.getTime() < windowStart.getTime()) {
    throw new RollbackError(
      `--to ${at} is ${formatSeconds((now.getTime() - opts.at.getTime()) / 1000)} ago, before the restore window starts (${windowStart.toISOString()}; a window of ${formatSeconds(opts.window.seconds)}: ${opts.window.from}); nothing was restored`,
      {
        where,
        fix: `Pick a time after ${windowStart.toISOString()}, or restore from a restore point (\`pnpm ops:rollback --db --restore-point br-…\`; \`pnpm ops:history\` lists them). If the project's window is longer, set NEON_HISTORY_RETENTION_SECONDS in infra/fly/apps.env to it.`,
      },
    );
  }
  if (!Number.isNaN(Date.parse(target.created_at)) && opts.at.getTime() < Date.parse(target.created_at)) {
    throw new RollbackError(`--to ${at} is before ${target.name} was created (${target.created_at}); nothing was restored`, {
      where,
      fix: `Pick a time after ${target.created_at}.`,
    });
  }
  return {
    projectId: opts.projectId,
    target: { branchId: target.id, name: target.name, headAt: now.toISOString(), updatedAt: target.updated_at },
    source: { kind: "time", branchId: target.id, name: target.name, timestamp: at, window: opts.window },
    preserveUnderName: preservedBranchName(target.name, now),
  };
}

/** The databases a restore overwrites, as read for the plan (Neon's API documents no list of them). */
export type BranchDatabases = { names: string[]; from: string } | { error: string; from: string };

/** The plan as lines for a `plan` event or `--dry-run`. */
export function describeRestorePlan(plan: RestorePlan, databases?: BranchDatabases): string[] {
  const t = plan.target;
  const from =
    plan.source.kind === "restore-point"
      ? `from restore point ${plan.source.name} (${plan.source.branchId})`
      : `from its own history (restore window ${formatSeconds(plan.source.window.seconds)}: ${plan.source.window.from})`;
  const dbs =
    databases === undefined
      ? "every database on the branch"
      : "names" in databases
        ? `every database on the branch: ${databases.names.join(", ")} (${databases.from})`
        : `every database on the branch; their names could not be read (${databases.error}; ${databases.from})`;
  return [
    `restore Neon branch ${t.name} (${t.branchId}) to its state as of ${plan.source.timestamp}, ${from}`,
    `this overwrites, schema and data, ${dbs}`,
    `everything written to ${t.name} after ${plan.source.timestamp} (up to ${t.headAt}) is replaced; the current state is preserved as the new branch ${plan.preserveUnderName}, which becomes ${t.name}'s parent and takes over its child branches (undo the restore: neonctl branches reset ${t.name} --parent --preserve-under-name <name>)`,
    `open connections to ${t.name} are interrupted for a few seconds; connection strings stay the same`,
  ];
}

/** What a restore did. */
export interface RestoreResult {
  /** The restored branch (`branch.id`, unchanged by the restore). */
  branchId: string;
  /** `branch.id` of the branch holding the overwritten state (the restored branch's new `parent_id`). */
  preservedBranchId: string;
  /** Its name (`preserve_under_name`). */
  preservedBranchName: string;
  /** `branch.last_reset_at` of the restored branch, when Neon gave it. */
  restoredAt: string | undefined;
}

/**
 * Restores `plan.target` as planned: `POST /projects/{project_id}/branches/{branch_id}/restore` with
 * body `{ source_branch_id, preserve_under_name }`: from a restore point, its id and no
 * `source_timestamp` (its head is the state wanted); from a time, the target's own id and
 * `source_timestamp`. Waits for the returned `operations`, then reads the target again: its
 * `parent_id` is the preserved branch.
 * @throws {NeonApiError} when the call fails (after 423/429 retries); {@link NeonOperationError}
 * when an operation fails; {@link RollbackError} when Neon refuses the time (400/422: outside its
 * real restore window) or the preserved branch cannot be found.
 */
export async function applyDatabaseRestore(
  client: NeonClient,
  plan: RestorePlan,
  opts: { poll?: PollOptions } = {},
): Promise<RestoreResult> {
  const body = {
    source_branch_id: plan.source.branchId,
    ...(plan.source.kind === "time" ? { source_timestamp: plan.source.timestamp } : {}),
    preserve_under_name: plan.preserveUnderName,
  };
  const source = plan.source;
  const restored = await client
    .call((api) => api.restoreProjectBranch(plan.projectId, plan.target.branchId, body))
    .catch((err: unknown) => {
      // Neon checks the time against its real window, which may be shorter than the configured one.
      if (source.kind !== "time" || !(err instanceof NeonApiError) || (err.status !== 400 && err.status !== 422)) throw err;
      throw new RollbackError(`Neon refused to restore ${plan.target.name} to ${source.timestamp}: ${err.message}. Nothing was restored`, {
        where: `Neon project ${plan.projectId}, branch ${plan.target.name} (${plan.target.branchId})`,
        fix: `The project's restore window may be shorter than the one used here (${formatSeconds(source.window.seconds)}: ${source.window.from}); set NEON_HISTORY_RETENTION_SECONDS in infra/fly/apps.env to the window shown in the Neon console (Settings → Instant restore), pick a later time, or restore from a restore point (\`pnpm ops:history\` lists them).`,
        cause: err,
      });
    });
  await pollOperations(client, plan.projectId, restored.operations, opts.poll);

  const { branch } = await client.call((api) => api.getProjectBranch(plan.projectId, plan.target.branchId));
  let preserved: Branch | undefined;
  if (branch.parent_id !== undefined) {
    const parentId = branch.parent_id;
    const { branch: parent } = await client.call((api) => api.getProjectBranch(plan.projectId, parentId));
    if (parent.name === plan.preserveUnderName) preserved = parent;
  }
  if (!preserved) {
    const { branches } = await client.call((api) => api.listProjectBranches({ projectId: plan.projectId, search: plan.preserveUnderName }));
    preserved = branches.find((b) => b.name === plan.preserveUnderName);
  }
  if (!preserved) {
    throw new RollbackError(
      `${plan.target.name} was restored ${plan.source.kind === "restore-point" ? `from ${plan.source.name}` : `to ${plan.source.timestamp}`}, but the branch ${plan.preserveUnderName} holding its previous state was not found`,
      {
        where: `Neon project ${plan.projectId}, branch ${plan.target.name} (${plan.target.branchId})`,
        fix: `List the branches (neonctl branches list --project-id ${plan.projectId}) and look for ${plan.target.name}'s parent before deleting anything.`,
      },
    );
  }
  return { branchId: branch.id, preservedBranchId: preserved.id, preservedBranchName: preserved.name, restoredAt: branch.last_reset_at };
}
