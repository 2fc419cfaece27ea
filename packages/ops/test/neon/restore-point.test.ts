import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OpsError, RollbackError } from "../../src/errors.ts";
import { createNeonClient, type NeonApiError, type NeonClient } from "../../src/neon/client.ts";
import {
  applyDatabaseRestore,
  createRestorePoint,
  describeRestorePlan,
  NeonOperationError,
  planDatabaseRestore,
  pollOperations,
  preservedBranchName,
  planDatabaseRestoreToTime,
} from "../../src/neon/restore-point.ts";
import { Secret } from "../../src/secrets/secret.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";

const PLANTED_KEY = "neon_api_PLACEHOLDER_KEY_123";
const POLL = { intervalMs: 1, timeoutMs: 2000 };

/** A clock both the stand-in and the code under test read; tests move it. */
let clockMs = Date.parse("2026-03-01T10:00:00.000Z");
const now = () => new Date(clockMs);

let neon: FakeNeon;
let client: NeonClient;
beforeEach(async () => {
  clockMs = Date.parse("2026-03-01T10:00:00.000Z");
  neon = await startFakeNeon({ apiKey: PLANTED_KEY, now, historyRetentionSeconds: 6 * 3600 });
  client = createNeonClient({ apiKey: new Secret(PLANTED_KEY), baseUrl: neon.url, minRetryDelayMs: 1, maxRetryDelayMs: 4 });
});
afterEach(async () => {
  await neon.close();
});

const mutating = () => neon.state.requests.filter((r) => r.method !== "GET");

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

describe("createRestorePoint", () => {
  it("branches production at its head, without compute, named restore-<runId>, and waits for create_branch", async () => {
    const point = await createRestorePoint(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      runId: "run-42",
      poll: POLL,
    });
    const branch = neon.state.branchByName("restore-run-42");
    expect(point).toEqual({
      branchId: branch.id,
      name: "restore-run-42",
      parentTimestamp: "2026-03-01T10:00:00.000Z",
      createdAt: "2026-03-01T10:00:00.000Z",
      reused: false,
    });
    expect(mutating()).toEqual([
      {
        method: "POST",
        path: `/projects/${neon.projectId}/branches`,
        query: {},
        body: { branch: { parent_id: neon.defaultBranchId, name: "restore-run-42" } },
        status: 201,
        authorized: true,
      },
    ]);
    expect(branch).toMatchObject({ parent_id: neon.defaultBranchId, current_state: "ready", data: "initial" });
    const ops = [...neon.state.operations.values()];
    expect(ops.map((o) => [o.action, o.status])).toEqual([["create_branch", "finished"]]);
    expect(neon.state.requests.filter((r) => r.path.includes("/operations/")).map((r) => r.status)).toEqual([200, 200]);
  });

  it("sets expires_at with second precision when asked", async () => {
    await createRestorePoint(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      runId: "r1",
      now: now(),
      expiresInSeconds: 7 * 86_400,
      poll: POLL,
    });
    expect(mutating()[0]?.body).toEqual({
      branch: { parent_id: neon.defaultBranchId, name: "restore-r1", expires_at: "2026-03-08T10:00:00Z" },
    });
  });

  it("is safe to re-run: a ready restore point of the same run is reused, not created twice", async () => {
    const first = await createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId: "r2", poll: POLL });
    const again = await createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId: "r2", poll: POLL });
    expect(again).toEqual({ ...first, reused: true });
    expect(mutating()).toHaveLength(1);
    expect(neon.state.requests.filter((r) => r.method === "GET" && r.path.endsWith("/branches")).map((r) => r.query)).toEqual([
      { search: "restore-r2" },
      { search: "restore-r2" },
    ]);
  });

  it("refuses a name taken by a branch of another parent", async () => {
    const other = await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "dev" } }));
    await pollOperations(client, neon.projectId, other.operations, POLL);
    await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "restore-r3", parent_id: other.branch.id } }));
    const err = await caught(
      createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId: "r3", poll: POLL }),
    );
    expect(err).toBeInstanceOf(OpsError);
    expect((err as OpsError).message).toMatch(
      /a Neon branch named restore-r3 \(br-.*\) already exists but was branched from br-.*, not from /,
    );
  });

  it("refuses run ids that cannot be part of a branch name", async () => {
    await expect(createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId: "a b/c" })).rejects.toThrow(
      /cannot be part of a Neon branch name/,
    );
  });

  it("a failed create_branch operation: the error names the operation id and action", async () => {
    neon.knobs.failNextOperation = { action: "create_branch", status: "failed", error: "timeline creation failed" };
    const err = (await caught(
      createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId: "r4", poll: POLL }),
    )) as NeonOperationError;
    const op = [...neon.state.operations.values()][0];
    expect(err).toBeInstanceOf(NeonOperationError);
    expect(err.message).toBe(`Neon operation ${op?.id} (create_branch on ${op?.branch_id}) ended "failed": timeline creation failed`);
    expect(err).toMatchObject({ operationId: op?.id, action: "create_branch", status: "failed", code: "E_COMMAND" });
    expect(err.fix).toContain(`neonctl operations list --project-id ${neon.projectId}`);
  });
});

describe("pollOperations", () => {
  it("a cancelled operation is a failure too", async () => {
    neon.knobs.failNextOperation = { status: "cancelled", error: "cancelled by user" };
    const res = await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "z" } }));
    await expect(pollOperations(client, neon.projectId, res.operations, POLL)).rejects.toThrow(
      /\(create_branch on br-[a-z0-9-]+\) ended "cancelled": cancelled by user/,
    );
  });

  it("gives up after timeoutMs naming the pending operations", async () => {
    neon.knobs.pollsToFinish = 1_000_000;
    const res = await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "slow" } }));
    const op = res.operations[0];
    const err = (await caught(
      pollOperations(client, neon.projectId, res.operations, { intervalMs: 5, timeoutMs: 30 }),
    )) as NeonOperationError;
    expect(err).toBeInstanceOf(NeonOperationError);
    expect(err.message).toBe(`Neon operation still not done after 0 s: ${op?.id} (create_branch on ${res.branch.id}) is "running"`);
  });

  it("returns at once when every operation is already terminal", async () => {
    const ops = [
      { id: "op-1", action: "create_branch", status: "finished" },
      { id: "op-2", action: "start_compute", status: "skipped" },
    ] as const;
    expect(await pollOperations(client, neon.projectId, ops.map((o) => ({ ...o })) as never, POLL)).toHaveLength(2);
    expect(neon.state.requests).toEqual([]);
  });
});

describe("the stand-in follows BranchRestoreRequest", () => {
  it("answers 400 when preserve_under_name is omitted and the target has children (a restore point is one)", async () => {
    const point = await createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId: "r5", poll: POLL });
    const err = (await caught(
      client.call((api) => api.restoreProjectBranch(neon.projectId, neon.defaultBranchId, { source_branch_id: point.branchId })),
    )) as NeonApiError;
    expect(err.status).toBe(400);
    expect(err.message).toContain(
      `preserve_under_name is required: branch ${neon.defaultBranchId} has 1 child branch(es), which will be moved to the preserved branch`,
    );
    expect(neon.state.restores).toEqual([]);
  });

  it.each([
    [{}, "source_branch_id is required"],
    [{ source_branch_id: "SELF" }, "source_timestamp or source_lsn is required when restoring a branch from its own history"],
    [
      { source_branch_id: "SELF", source_timestamp: "2026-03-01T09:00:00Z" },
      "preserve_under_name is required when restoring a branch from its own history",
    ],
    [
      { source_branch_id: "SELF", source_timestamp: "2026-03-01T09:00:00Z", source_lsn: "0/1", preserve_under_name: "x" },
      "source_timestamp and source_lsn cannot be used together",
    ],
    [
      { source_branch_id: "SELF", source_timestamp: "2026-03-01T03:00:00Z", preserve_under_name: "x" },
      "source_timestamp 2026-03-01T03:00:00Z is outside the project's history retention window of 21600 seconds",
    ],
    [{ source_branch_id: "SELF", source_timestamp: "2026-03-01T11:00:00Z", preserve_under_name: "x" }, "is in the future"],
  ])("refuses %j with 400", async (body, message) => {
    const b = JSON.parse(JSON.stringify(body).replace("SELF", neon.defaultBranchId)) as { source_branch_id: string };
    const err = (await caught(client.call((api) => api.restoreProjectBranch(neon.projectId, neon.defaultBranchId, b)))) as NeonApiError;
    expect(err.status).toBe(400);
    expect(err.message).toContain(message);
  });

  it("answers 422 for an out-of-window timestamp when the knob says so (branch creation too)", async () => {
    neon.knobs.windowErrorStatus = 422;
    const err = (await caught(
      client.call((api) => api.createProjectBranch(neon.projectId, { branch: { parent_timestamp: "2026-02-28T10:00:00Z" } })),
    )) as NeonApiError;
    expect(err.status).toBe(422);
  });

  it("restores from its own history with a timestamp inside the window", async () => {
    await client.call((api) =>
      api.restoreProjectBranch(neon.projectId, neon.defaultBranchId, {
        source_branch_id: neon.defaultBranchId,
        source_timestamp: "2026-03-01T09:00:00Z",
        preserve_under_name: "main_old",
      }),
    );
    expect(neon.state.restores).toMatchObject([
      { targetBranchId: neon.defaultBranchId, sourceTimestamp: "2026-03-01T09:00:00Z", preserveUnderName: "main_old" },
    ]);
    expect(neon.state.branches.get(neon.defaultBranchId)?.parent_id).toBe(neon.state.branchByName("main_old").id);
  });

  it("answers 423 to a mutating request while an operation is running", async () => {
    await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "busy" } }));
    const locked = createNeonClient({ apiKey: new Secret(PLANTED_KEY), baseUrl: neon.url, retries: 0 });
    const err = (await caught(locked.call((api) => api.createProjectBranch(neon.projectId, {})))) as NeonApiError;
    expect(err.status).toBe(423);
  });
});

describe("planDatabaseRestore + applyDatabaseRestore", () => {
  async function migratedWithRestorePoint(runId = "run-7") {
    const point = await createRestorePoint(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, runId, poll: POLL });
    // The migration then changes production.
    const main = neon.state.branches.get(neon.defaultBranchId);
    if (main) main.data = "migrated-v2";
    clockMs += 20 * 60_000;
    return point;
  }

  it("plans exactly what will be overwritten, changing nothing", async () => {
    const point = await migratedWithRestorePoint();
    const before = neon.state.requests.length;
    const plan = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    expect(plan).toEqual({
      projectId: neon.projectId,
      target: { branchId: neon.defaultBranchId, name: "main", headAt: "2026-03-01T10:20:00.000Z", updatedAt: "2026-03-01T10:00:00.000Z" },
      source: { kind: "restore-point", branchId: point.branchId, name: "restore-run-7", timestamp: "2026-03-01T10:00:00.000Z" },
      preserveUnderName: "main_pre_restore_20260301T102000Z",
    });
    expect(neon.state.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /projects/${neon.projectId}/branches/${neon.defaultBranchId}`,
      `GET /projects/${neon.projectId}/branches/${point.branchId}`,
    ]);
    const from = "read with `SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname` over MIGRATION_DATABASE_URL";
    expect(describeRestorePlan(plan, { names: ["app", "neondb"], from })).toEqual([
      `restore Neon branch main (${neon.defaultBranchId}) to its state as of 2026-03-01T10:00:00.000Z, from restore point restore-run-7 (${point.branchId})`,
      `this overwrites, schema and data, every database on the branch: app, neondb (${from})`,
      "everything written to main after 2026-03-01T10:00:00.000Z (up to 2026-03-01T10:20:00.000Z) is replaced; the current state is preserved as the new branch main_pre_restore_20260301T102000Z, which becomes main's parent and takes over its child branches (undo the restore: neonctl branches reset main --parent --preserve-under-name <name>)",
      "open connections to main are interrupted for a few seconds; connection strings stay the same",
    ]);
    expect(describeRestorePlan(plan, { error: "connect ECONNREFUSED", from })[1]).toBe(
      `this overwrites, schema and data, every database on the branch; their names could not be read (connect ECONNREFUSED; ${from})`,
    );
  });

  it("restores production from the restore point, always sending preserve_under_name, and returns the preserved branch", async () => {
    const point = await migratedWithRestorePoint();
    // Another child of main, which must move under the preserved branch with the restore point.
    const dev = await client.call((api) =>
      api.createProjectBranch(neon.projectId, { branch: { name: "dev", parent_id: neon.defaultBranchId } }),
    );
    await pollOperations(client, neon.projectId, dev.operations, POLL);

    const plan = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    const result = await applyDatabaseRestore(client, plan, { poll: POLL });

    const preserved = neon.state.branchByName("main_pre_restore_20260301T102000Z");
    expect(result).toEqual({
      branchId: neon.defaultBranchId,
      preservedBranchId: preserved.id,
      preservedBranchName: preserved.name,
      restoredAt: "2026-03-01T10:20:00.000Z",
    });
    const restoreCalls = neon.state.requests.filter((r) => r.path.endsWith("/restore"));
    expect(restoreCalls).toEqual([
      {
        method: "POST",
        path: `/projects/${neon.projectId}/branches/${neon.defaultBranchId}/restore`,
        query: {},
        body: { source_branch_id: point.branchId, preserve_under_name: "main_pre_restore_20260301T102000Z" },
        status: 200,
        authorized: true,
      },
    ]);
    // Data: production holds the restore point's data again; the overwritten state is kept.
    expect(neon.state.branches.get(neon.defaultBranchId)).toMatchObject({
      data: "initial",
      current_state: "ready",
      parent_id: preserved.id,
    });
    expect(preserved.data).toBe("migrated-v2");
    // The preserved branch took over main's children (the restore point and dev).
    expect(neon.state.parentLinks).toEqual({
      [neon.defaultBranchId]: preserved.id,
      [point.branchId]: preserved.id,
      [dev.branch.id]: preserved.id,
      [preserved.id]: null,
    });
    expect(neon.state.requests.some((r) => r.status === 423)).toBe(false);
  });

  it("423 on the restore call is retried and the restore goes through once", async () => {
    const point = await migratedWithRestorePoint();
    const plan = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    neon.knobs.force423 = 2;
    await applyDatabaseRestore(client, plan, { poll: POLL });
    expect(neon.state.requests.filter((r) => r.path.endsWith("/restore")).map((r) => r.status)).toEqual([423, 423, 200]);
    expect(neon.state.restores).toHaveLength(1);
  });

  it("a failed restore operation names the operation", async () => {
    const point = await migratedWithRestorePoint();
    const plan = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    neon.knobs.failNextOperation = { action: "create_timeline", status: "error", error: "pageserver unavailable" };
    const err = (await caught(applyDatabaseRestore(client, plan, { poll: POLL }))) as NeonOperationError;
    expect(err).toBeInstanceOf(NeonOperationError);
    expect(err.message).toMatch(
      new RegExp(`^Neon operation [0-9a-f-]{36} \\(create_timeline on ${neon.defaultBranchId}\\) ended "error": pageserver unavailable$`),
    );
  });

  it("a restore point older than the restore window still plans: it restores the point's own head, not the target's history", async () => {
    const point = await migratedWithRestorePoint();
    clockMs += 7 * 86_400_000; // a week later; the stand-in's window is 6 h
    const plan = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    await applyDatabaseRestore(client, plan, { poll: POLL });
    expect(neon.state.restores).toMatchObject([{ sourceBranchId: point.branchId }]);
    expect(neon.state.branches.get(neon.defaultBranchId)!.data).toBe("initial");
  });

  it("refuses a restore point that is not a branch of the target", async () => {
    const dev = await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "dev" } }));
    await pollOperations(client, neon.projectId, dev.operations, POLL);
    const other = await createRestorePoint(client, { projectId: neon.projectId, branchId: dev.branch.id, runId: "r9", poll: POLL });
    const err = await caught(
      planDatabaseRestore(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, restorePointBranchId: other.branchId }),
    );
    expect(err).toBeInstanceOf(RollbackError);
    expect((err as Error).message).toBe(
      `restore-r9 (${other.branchId}) is not a restore point of main (${neon.defaultBranchId}): its parent is ${dev.branch.id}, which is neither main nor a branch that kept main's state in a restore`,
    );
    expect((err as RollbackError).fix).toContain("pnpm ops:history");
    expect((err as RollbackError).fix).toContain(`NEON_BRANCH_ID in infra/fly/apps.env (now ${neon.defaultBranchId})`);
  });

  it("after a restore the restore point is no longer main's child, and still plans (the restore moved it to the preserved branch)", async () => {
    const point = await migratedWithRestorePoint();
    const first = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    await applyDatabaseRestore(client, first, { poll: POLL });
    const preserved = neon.state.branchByName("main_pre_restore_20260301T102000Z");
    expect(neon.state.branches.get(point.branchId)?.parent_id).toBe(preserved.id);

    clockMs += 5 * 60_000;
    const again = await planDatabaseRestore(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      restorePointBranchId: point.branchId,
      now: now(),
    });
    expect(again.source).toEqual({
      kind: "restore-point",
      branchId: point.branchId,
      name: "restore-run-7",
      timestamp: "2026-03-01T10:00:00.000Z",
    });
    expect(again.preserveUnderName).toBe("main_pre_restore_20260301T102500Z");
  });

  it("restores twice from the same restore point: the second restore brings back the same data and keeps both overwritten states", async () => {
    const point = await migratedWithRestorePoint();
    await applyDatabaseRestore(
      client,
      await planDatabaseRestore(client, {
        projectId: neon.projectId,
        branchId: neon.defaultBranchId,
        restorePointBranchId: point.branchId,
        now: now(),
      }),
      { poll: POLL },
    );
    // Production is written to again after the first restore, then restored from the same point.
    const main = neon.state.branches.get(neon.defaultBranchId)!;
    main.data = "migrated-v3";
    clockMs += 10 * 60_000;
    const second = await applyDatabaseRestore(
      client,
      await planDatabaseRestore(client, {
        projectId: neon.projectId,
        branchId: neon.defaultBranchId,
        restorePointBranchId: point.branchId,
        now: now(),
      }),
      { poll: POLL },
    );

    const p1 = neon.state.branchByName("main_pre_restore_20260301T102000Z");
    const p2 = neon.state.branchByName("main_pre_restore_20260301T103000Z");
    expect(second).toMatchObject({ preservedBranchId: p2.id, preservedBranchName: p2.name });
    expect(main.data).toBe("initial");
    expect([p1.data, p2.data]).toEqual(["migrated-v2", "migrated-v3"]);
    expect(neon.state.restores.map((r) => r.sourceBranchId)).toEqual([point.branchId, point.branchId]);
    // main → p2 → p1, and the restore point still hangs off p1.
    expect(neon.state.parentLinks).toMatchObject({ [neon.defaultBranchId]: p2.id, [p2.id]: p1.id, [p1.id]: null, [point.branchId]: p1.id });
    // And it still plans a third time.
    clockMs += 60_000;
    await expect(
      planDatabaseRestore(client, {
        projectId: neon.projectId,
        branchId: neon.defaultBranchId,
        restorePointBranchId: point.branchId,
        now: now(),
      }),
    ).resolves.toMatchObject({ source: { branchId: point.branchId } });
  });

  it("a sibling's restore point is still refused after a restore (only branches that kept main's state count)", async () => {
    const point = await migratedWithRestorePoint();
    // dev is a root branch; a restore point of dev hangs off dev, which is not in main's chain.
    const dev = await client.call((api) => api.createProjectBranch(neon.projectId, { branch: { name: "dev" } }));
    await pollOperations(client, neon.projectId, dev.operations, POLL);
    const other = await createRestorePoint(client, { projectId: neon.projectId, branchId: dev.branch.id, runId: "r10", poll: POLL });
    await applyDatabaseRestore(
      client,
      await planDatabaseRestore(client, {
        projectId: neon.projectId,
        branchId: neon.defaultBranchId,
        restorePointBranchId: point.branchId,
        now: now(),
      }),
      { poll: POLL },
    );
    await expect(
      planDatabaseRestore(client, {
        projectId: neon.projectId,
        branchId: neon.defaultBranchId,
        restorePointBranchId: other.branchId,
        now: now(),
      }),
    ).rejects.toThrow(`restore-r10 (${other.branchId}) is not a restore point of main`);
  });

  it("an unknown restore point id: a RollbackError naming the id and where to find the right one", async () => {
    const err = (await caught(
      planDatabaseRestore(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, restorePointBranchId: "br-nope-404" }),
    )) as RollbackError;
    expect(err).toBeInstanceOf(RollbackError);
    expect(err.message).toBe(
      `restore point br-nope-404 not found: Neon project ${neon.projectId} has no branch with that id (GET …/branches/br-nope-404 answered 404)`,
    );
    expect(err.where).toBe(`Neon project ${neon.projectId}, branch main (${neon.defaultBranchId})`);
    expect(err.fix).toContain("pnpm ops:history");
    expect(err.fix).toContain("--restore-point");
  });

  it("no key in any error or in the request log along the whole flow", async () => {
    const point = await migratedWithRestorePoint();
    clockMs += 7 * 3600_000;
    const errs = [
      await caught(
        planDatabaseRestore(client, {
          projectId: neon.projectId,
          branchId: neon.defaultBranchId,
          restorePointBranchId: "br-nope-2",
          now: now(),
        }),
      ),
      await caught(
        planDatabaseRestoreToTime(client, {
          projectId: neon.projectId,
          branchId: neon.defaultBranchId,
          at: new Date(clockMs + 1000),
          window: { seconds: 3600, from: "test" },
          now: now(),
        }),
      ),
      await caught(
        planDatabaseRestore(client, { projectId: neon.projectId, branchId: "br-nope-1", restorePointBranchId: point.branchId, now: now() }),
      ),
    ];
    const text = [...errs.map((e) => inspect(e, { depth: 10 })), JSON.stringify(neon.state.requests)].join("\n");
    expect(text).not.toContain(PLANTED_KEY);
  });
});

describe("planDatabaseRestoreToTime + applyDatabaseRestore (the branch's own history)", () => {
  const window = { seconds: 6 * 3600, from: "NEON_HISTORY_RETENTION_SECONDS=21600 in infra/fly/apps.env" };
  // The project (and main) were created at 10:00; now is 20:00, so the window starts at 14:00.
  const later = () => {
    clockMs = Date.parse("2026-03-01T20:00:00.000Z");
  };
  const plan = (at: string) =>
    planDatabaseRestoreToTime(client, { projectId: neon.projectId, branchId: neon.defaultBranchId, at: new Date(at), window, now: now() });

  it("plans from the branch alone, then restores main from itself at that time with preserve_under_name", async () => {
    later();
    const main = neon.state.branches.get(neon.defaultBranchId)!;
    main.data = "migrated-v2";
    const before = neon.state.requests.length;
    const p = await plan("2026-03-01T19:30:00.000Z");
    expect(p).toEqual({
      projectId: neon.projectId,
      target: { branchId: neon.defaultBranchId, name: "main", headAt: "2026-03-01T20:00:00.000Z", updatedAt: "2026-03-01T10:00:00.000Z" },
      source: { kind: "time", branchId: neon.defaultBranchId, name: "main", timestamp: "2026-03-01T19:30:00.000Z", window },
      preserveUnderName: "main_pre_restore_20260301T200000Z",
    });
    expect(neon.state.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /projects/${neon.projectId}/branches/${neon.defaultBranchId}`,
    ]);
    expect(describeRestorePlan(p)[0]).toBe(
      `restore Neon branch main (${neon.defaultBranchId}) to its state as of 2026-03-01T19:30:00.000Z, from its own history (restore window 6 h: NEON_HISTORY_RETENTION_SECONDS=21600 in infra/fly/apps.env)`,
    );

    const result = await applyDatabaseRestore(client, p, { poll: POLL });
    expect(neon.state.requests.filter((r) => r.path.endsWith("/restore")).map((r) => r.body)).toEqual([
      {
        source_branch_id: neon.defaultBranchId,
        source_timestamp: "2026-03-01T19:30:00.000Z",
        preserve_under_name: "main_pre_restore_20260301T200000Z",
      },
    ]);
    const preserved = neon.state.branchByName("main_pre_restore_20260301T200000Z");
    expect(result).toMatchObject({ preservedBranchId: preserved.id, preservedBranchName: preserved.name });
    expect(preserved.data).toBe("migrated-v2");
    expect(main.parent_id).toBe(preserved.id);
  });

  it.each([
    ["the window's first instant", "2026-03-01T14:00:00.000Z"],
    ["now itself", "2026-03-01T20:00:00.000Z"],
    ["a second ago", "2026-03-01T19:59:59.000Z"],
  ])("accepts %s", async (_name, at) => {
    later();
    await expect(plan(at)).resolves.toMatchObject({ source: { kind: "time", timestamp: at } });
  });

  it.each([
    [
      "a second in the future",
      "2026-03-01T20:00:01.000Z",
      "--to 2026-03-01T20:00:01.000Z is in the future (now is 2026-03-01T20:00:00.000Z); nothing was restored",
    ],
    [
      "a millisecond before the window",
      "2026-03-01T13:59:59.999Z",
      "--to 2026-03-01T13:59:59.999Z is 6 h ago, before the restore window starts (2026-03-01T14:00:00.000Z; a window of 6 h: NEON_HISTORY_RETENTION_SECONDS=21600 in infra/fly/apps.env); nothing was restored",
    ],
  ])("refuses %s before calling restore", async (_name, at, message) => {
    later();
    const err = (await caught(plan(at))) as RollbackError;
    expect(err).toBeInstanceOf(RollbackError);
    expect(err.message).toBe(message);
    expect(neon.state.requests.some((r) => r.method !== "GET")).toBe(false);
  });

  it("a time inside the configured window but outside Neon's real one: Neon's refusal becomes one RollbackError naming the setting", async () => {
    later();
    // Configured: 1 day; the project's real window (the stand-in's) is 6 h, so 13:00 passes our check.
    const p = await planDatabaseRestoreToTime(client, {
      projectId: neon.projectId,
      branchId: neon.defaultBranchId,
      at: new Date("2026-03-01T13:00:00.000Z"),
      window: { seconds: 86_400, from: "the default of 1 day" },
      now: now(),
    });
    const err = (await caught(applyDatabaseRestore(client, p, { poll: POLL }))) as RollbackError;
    expect(err).toBeInstanceOf(RollbackError);
    expect(err.message).toMatch(
      /^Neon refused to restore main to 2026-03-01T13:00:00\.000Z: Neon API POST \/projects\/\S+\/restore failed: HTTP 400 .*outside the project's history retention window.*\. Nothing was restored$/,
    );
    expect(err.fix).toContain("(1 day: the default of 1 day); set NEON_HISTORY_RETENTION_SECONDS in infra/fly/apps.env");
    expect(neon.state.restores).toEqual([]);
  });

  it("refuses a time inside the window but before the branch existed", async () => {
    // main was created at 10:00; with a 1-day window, 09:00 is inside the window but before main.
    const err = (await caught(
      planDatabaseRestoreToTime(client, {
        projectId: neon.projectId,
        branchId: neon.defaultBranchId,
        at: new Date("2026-03-01T09:00:00.000Z"),
        window: { seconds: 86_400, from: "the default" },
        now: now(),
      }),
    )) as RollbackError;
    expect(err.message).toBe("--to 2026-03-01T09:00:00.000Z is before main was created (2026-03-01T10:00:00.000Z); nothing was restored");
  });
});

describe("preservedBranchName", () => {
  it("is <branch>_pre_restore_<UTC> and never longer than 256 characters", () => {
    expect(preservedBranchName("main", new Date("2026-03-01T10:20:00.123Z"))).toBe("main_pre_restore_20260301T102000Z");
    const long = preservedBranchName("x".repeat(300), new Date("2026-03-01T10:20:00Z"));
    expect(long).toHaveLength(256);
    expect(long.endsWith("_pre_restore_20260301T102000Z")).toBe(true);
  });
});
