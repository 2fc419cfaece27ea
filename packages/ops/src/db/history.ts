import type pg from "pg";
import type { TimelineBar } from "../output/timeline.ts";

/** One row of `ops.deploy_history`: a deploy, migrate or rollback run. Holds no secret values. */
export interface HistoryEntry {
  runId: string;
  environment: string;
  target: string;
  kind: "deploy" | "migrate" | "rollback" | "secrets";
  status: "running" | "succeeded" | "failed" | "rolled-back";
  actor: string;
  host: string;
  gitSha: string;
  startedAt: Date;
  finishedAt?: Date | undefined;
  /** Per app: the release before and after this run. */
  releases: Record<string, { from: string | null; to: string | null }>;
  migrationsApplied: string[];
  durationsMs: Record<string, number>;
  /** The steps and per-app deploy phases with their times (output/timeline.ts); empty for runs recorded without one. */
  timeline?: TimelineBar[] | undefined;
  restorePoint?: string | undefined;
  /**
   * The pipeline step that failed (`smoke`, `deploy`, `db-migrate`, `sync-secrets`, `finish`), or
   * the command of a standalone run that failed; unset for runs that did not fail and for rows
   * written before the column existed.
   */
  failedStep?: string | undefined;
  /**
   * The highest postgres-migrations id in the database once this run migrated (its `db-migrate`
   * step): the schema the releases of this run were deployed with. Unset when the run had no
   * migrate step, and for rows written before the column existed.
   */
  schemaVersion?: number | undefined;
  error?: string | undefined;
}

/** Inserts or replaces the row of a run. */
export async function recordHistory(client: pg.Client, e: HistoryEntry): Promise<void> {
  await client.query(
    `INSERT INTO ops.deploy_history (run_id, environment, target, kind, status, actor, host, git_sha, started_at, finished_at,
       releases, migrations_applied, durations_ms, restore_point, error, timeline, failed_step, schema_version)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)
     ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at,
       releases = EXCLUDED.releases, migrations_applied = EXCLUDED.migrations_applied,
       durations_ms = EXCLUDED.durations_ms, restore_point = EXCLUDED.restore_point, error = EXCLUDED.error,
       timeline = EXCLUDED.timeline, failed_step = EXCLUDED.failed_step, schema_version = EXCLUDED.schema_version`,
    [
      e.runId,
      e.environment,
      e.target,
      e.kind,
      e.status,
      e.actor,
      e.host,
      e.gitSha,
      e.startedAt,
      e.finishedAt ?? null,
      JSON.stringify(e.releases),
      JSON.stringify(e.migrationsApplied),
      JSON.stringify(e.durationsMs),
      e.restorePoint ?? null,
      e.error ?? null,
      JSON.stringify(e.timeline ?? []),
      e.failedStep ?? null,
      e.schemaVersion ?? null,
    ],
  );
}

/** The newest `limit` runs of an environment, newest first. */
export async function listHistory(client: pg.Client, environment: string, limit = 20): Promise<HistoryEntry[]> {
  const { rows } = await client.query("SELECT * FROM ops.deploy_history WHERE environment = $1 ORDER BY started_at DESC LIMIT $2", [
    environment,
    limit,
  ]);
  return rows.map((r) => ({
    runId: r.run_id,
    environment: r.environment,
    target: r.target,
    kind: r.kind,
    status: r.status,
    actor: r.actor,
    host: r.host,
    gitSha: r.git_sha,
    startedAt: new Date(r.started_at),
    finishedAt: r.finished_at ? new Date(r.finished_at) : undefined,
    releases: r.releases,
    migrationsApplied: r.migrations_applied,
    durationsMs: r.durations_ms,
    timeline: r.timeline ?? [],
    restorePoint: r.restore_point ?? undefined,
    failedStep: r.failed_step ?? undefined,
    schemaVersion: r.schema_version ?? undefined,
    error: r.error ?? undefined,
  }));
}

/** One run {@link closeUnclosedRuns} recorded as failed. */
export interface ClosedRun {
  runId: string;
  actor: string;
  host: string;
  gitSha: string;
}

/**
 * Records as failed (`abandoned: …`) every run of `environment` still marked running, except
 * `runId`: called by the run that has just taken the environment's deploy lock, which no other
 * run can hold, so none of them still runs (killed after its lock was released or broken).
 * @returns the runs it closed.
 */
export async function closeUnclosedRuns(client: pg.Client, environment: string, runId: string): Promise<ClosedRun[]> {
  const { rows } = await client.query(
    `UPDATE ops.deploy_history SET status = 'failed', finished_at = now(),
       error = 'abandoned: still recorded as running when run ' || $2 || ' took the deploy lock'
     WHERE environment = $1 AND status = 'running' AND run_id <> $2
     RETURNING run_id, actor, host, git_sha`,
    [environment, runId],
  );
  return rows.map((r) => ({ runId: r.run_id, actor: r.actor, host: r.host, gitSha: r.git_sha }));
}
