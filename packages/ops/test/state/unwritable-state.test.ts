// A state folder that refuses writes (full disk, read-only, no rights) is an OpsError naming the
// path and the fix, never a bug with a stack; the old file stays, and closing a run still releases
// the deploy lock. ENOSPC is real: the temp file the atomic write opens is a link to /dev/full.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { acquireLock, readLock } from "../../src/db/lock.ts";
import { ensureOpsSchema } from "../../src/db/ops-schema.ts";
import { OpsError, RunStateError } from "../../src/errors.ts";
import { writeJsonAtomic } from "../../src/local/process-utils.ts";
import { closeRun } from "../../src/pipeline/run.ts";
import { environmentFsError } from "../../src/state/fs-errors.ts";
import { RunStore, type RunRecord } from "../../src/state/run-state.ts";
import { testContext } from "../setup/context.ts";
import { createTestDatabase, type TestDatabase } from "../setup/pg.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-unwritable-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The next atomic write of `path` by this process hits a full disk. */
const diskFullFor = (path: string) => symlinkSync("/dev/full", `${path}.${process.pid}.tmp`);

describe("writes to a full disk", () => {
  it("are an OpsError naming the file, ENOSPC and the fix; the old file stays and no temp file is left", () => {
    const path = join(dir, "state.json");
    writeJsonAtomic(path, { version: 1 });
    diskFullFor(path);
    let err: unknown;
    try {
      writeJsonAtomic(path, { version: 2 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RunStateError);
    expect((err as OpsError).message).toBe(`cannot write ${path}: no space is left on the device (ENOSPC)`);
    expect((err as OpsError).where).toBe(path);
    expect((err as OpsError).fix).toContain(`df -h ${dir}`);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 1 });
    expect(existsSync(`${path}.${process.pid}.tmp`)).toBe(false);
  });
});

describe("environmentFsError", () => {
  it.each([
    ["EROFS", "the file system is read-only", "read-write"],
    ["EACCES", "permission denied", "write access"],
    ["ENOSPC", "no space is left on the device", "Free space"],
  ])("%s names the path, why and a fix", (code, why, fix) => {
    const raw = Object.assign(new Error(`${code}: open '/srv/x/.ops/runs/r/run.json'`), { code, path: "/srv/x/.ops/runs/r/run.json" });
    const err = environmentFsError(raw) as OpsError;
    expect(err).toBeInstanceOf(OpsError);
    expect(err.message).toBe(`cannot write /srv/x/.ops/runs/r/run.json: ${why} (${code})`);
    expect(err.fix).toContain(fix);
    expect(err.fix).toContain("OPS_STATE_DIR");
  });

  it("leaves other errors alone (they are bugs)", () => {
    const bug = new TypeError("x is undefined");
    expect(environmentFsError(bug)).toBe(bug);
  });
});

describe("closing a run whose state folder refuses writes", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("still records the history and releases the lock, then reports the write that failed", async () => {
    const stateDir = join(dir, ".ops");
    const { ctx } = await testContext({
      env: { DATABASE_URL: db.url, OPS_STATE_DIR: stateDir, OPS_ENV: "unwritable" },
      flags: { pipeline: true },
    });
    const client = await db.connect();
    try {
      await ensureOpsSchema(client);
      const run: RunRecord = {
        runId: "20261207-000000-abcd",
        environment: "unwritable",
        target: "local",
        actor: "a",
        host: "h",
        gitSha: "s",
        startedAt: new Date().toISOString(),
        status: "running",
      };
      run.lockToken = await acquireLock(
        client,
        "unwritable",
        { user: "a", host: "h", runId: run.runId, gitSha: "s", purpose: "deploy" },
        { ttlMs: 60_000, waitMs: 0 },
      );
      new RunStore(stateDir, "unwritable").create(run);
      mkdirSync(join(stateDir, "runs", run.runId, "steps"), { recursive: true });
      diskFullFor(join(stateDir, "runs", run.runId, "run.json"));
      await expect(closeRun(ctx, run, "failed")).rejects.toThrow(/cannot write .*run\.json: no space is left on the device \(ENOSPC\)/);
      expect(await readLock(client, "unwritable")).toBeUndefined();
      const { rows } = await client.query("SELECT status FROM ops.deploy_history WHERE run_id = $1", [run.runId]);
      expect(rows).toEqual([{ status: "failed" }]);
    } finally {
      await client.end();
    }
  });
});
