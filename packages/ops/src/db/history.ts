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
  error?: string | undefined;
}

/** Inserts or replaces the row of a run. */
export async function recordHistory(client: pg.Client, e: HistoryEntry): Promise<void> {
  await client.query(
    `INSERT INTO ops.deploy_history (run_id, environment, target, kind, status, actor, host, git_sha, started_at, finished_at,
       releases, migrations_applied, durations_ms, restore_point, error, timeline)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)
     ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at,
       releases = EXCLUDED.releases, migrations_applied = EXCLUDED.migrations_applied,
       durations_ms = EXCLUDED.durations_ms, restore_point = EXCLUDED.restore_point, error = EXCLUDED.error,
       timeline = EXCLUDED.timeline`,
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
    error: r.error ?? undefined,
  }));
}
