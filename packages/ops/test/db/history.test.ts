import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listHistory, recordHistory, type HistoryEntry } from "../../src/db/history.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let db: TestDatabase;
let client: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase();
  client = await db.connect();
  await ensureOpsSchema(client);
});

afterAll(async () => {
  await db?.drop();
});

const entry = (runId: string, startedAt: string, over: Partial<HistoryEntry> = {}): HistoryEntry => ({
  runId,
  environment: "production",
  target: "fly",
  kind: "deploy",
  status: "running",
  actor: "alice",
  host: "laptop",
  gitSha: "abc1234def",
  startedAt: new Date(startedAt),
  releases: {},
  migrationsApplied: [],
  durationsMs: {},
  ...over,
});

describe("deploy history (real Postgres)", () => {
  it("inserts a run, then the same run id updates the row instead of adding one", async () => {
    await recordHistory(client, entry("run-1", "2026-11-29T12:00:00.000Z"));
    expect(await listHistory(client, "production")).toEqual([
      {
        runId: "run-1",
        environment: "production",
        target: "fly",
        kind: "deploy",
        status: "running",
        actor: "alice",
        host: "laptop",
        gitSha: "abc1234def",
        startedAt: new Date("2026-11-29T12:00:00.000Z"),
        finishedAt: undefined,
        releases: {},
        migrationsApplied: [],
        durationsMs: {},
        timeline: [],
        restorePoint: undefined,
        error: undefined,
      },
    ]);

    await recordHistory(
      client,
      entry("run-1", "2026-11-29T12:00:00.000Z", {
        status: "rolled-back",
        finishedAt: new Date("2026-11-29T12:04:30.250Z"),
        releases: { backend: { from: "v41", to: "v42" }, client: { from: null, to: "v7" } },
        migrationsApplied: ["3_add_users.sql"],
        durationsMs: { preflight: 1200, deploy: 54000 },
        timeline: [
          { lane: "steps", name: "preflight", startedAt: "2026-11-29T12:00:00.000Z", startMs: 0, durationMs: 1200, ok: true },
          {
            lane: "deploy backend",
            name: "health wait",
            startedAt: "2026-11-29T12:00:01.500Z",
            startMs: 1500,
            durationMs: 3000,
            ok: false,
          },
        ],
        restorePoint: "pre-deploy-run-1",
        error: "smoke check failed",
        // fields that identify the run are kept from the first insert
        actor: "mallory",
        kind: "rollback",
      }),
    );
    const rows = await listHistory(client, "production");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual({
      runId: "run-1",
      environment: "production",
      target: "fly",
      kind: "deploy",
      status: "rolled-back",
      actor: "alice",
      host: "laptop",
      gitSha: "abc1234def",
      startedAt: new Date("2026-11-29T12:00:00.000Z"),
      finishedAt: new Date("2026-11-29T12:04:30.250Z"),
      releases: { backend: { from: "v41", to: "v42" }, client: { from: null, to: "v7" } },
      migrationsApplied: ["3_add_users.sql"],
      durationsMs: { preflight: 1200, deploy: 54000 },
      timeline: [
        { lane: "steps", name: "preflight", startedAt: "2026-11-29T12:00:00.000Z", startMs: 0, durationMs: 1200, ok: true },
        { lane: "deploy backend", name: "health wait", startedAt: "2026-11-29T12:00:01.500Z", startMs: 1500, durationMs: 3000, ok: false },
      ],
      restorePoint: "pre-deploy-run-1",
      error: "smoke check failed",
    });
  });

  it("lists newest first, limited, and only the asked environment", async () => {
    await recordHistory(client, entry("run-3", "2026-11-29T14:00:00.000Z", { status: "succeeded" }));
    await recordHistory(client, entry("run-0", "2026-11-28T09:00:00.000Z", { status: "failed" }));
    await recordHistory(client, entry("run-2", "2026-11-29T13:00:00.000Z", { status: "succeeded" }));
    await recordHistory(client, entry("staging-1", "2026-11-30T00:00:00.000Z", { environment: "staging" }));

    expect((await listHistory(client, "production")).map((e) => e.runId)).toEqual(["run-3", "run-2", "run-1", "run-0"]);
    expect((await listHistory(client, "production", 2)).map((e) => e.runId)).toEqual(["run-3", "run-2"]);
    expect((await listHistory(client, "staging")).map((e) => [e.runId, e.environment])).toEqual([["staging-1", "staging"]]);
    expect(await listHistory(client, "nowhere")).toEqual([]);
  });

  it("defaults to the newest 20", async () => {
    for (let i = 0; i < 22; i++) {
      await recordHistory(
        client,
        entry(`many-${String(i).padStart(2, "0")}`, new Date(Date.UTC(2027, 0, 1, 0, i)).toISOString(), { environment: "many" }),
      );
    }
    const rows = await listHistory(client, "many");
    expect(rows).toHaveLength(20);
    expect(rows[0]!.runId).toBe("many-21");
    expect(rows[19]!.runId).toBe("many-02");
  });

  it("a history table made before timelines existed gains the column, and its old rows read as an empty timeline", async () => {
    await recordHistory(client, entry("old-1", "2026-10-01T00:00:00.000Z", { environment: "old" }));
    await client.query("ALTER TABLE ops.deploy_history DROP COLUMN timeline");
    expect((await listHistory(client, "old"))[0]!.timeline).toEqual([]);
    await ensureOpsSchema(client);
    const bar = { lane: "steps", name: "preflight", startedAt: "2026-10-02T00:00:00.000Z", startMs: 0, durationMs: 5, ok: true };
    await recordHistory(client, entry("old-2", "2026-10-02T00:00:00.000Z", { environment: "old", timeline: [bar] }));
    expect((await listHistory(client, "old")).map((e) => [e.runId, e.timeline])).toEqual([
      ["old-2", [bar]],
      ["old-1", []],
    ]);
  });
});
