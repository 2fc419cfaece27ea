import { readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import pgLib from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFakeFlyState, readFakeFlyState, updateFakeFlyState } from "../fixtures/flyctl/state.ts";
import { runFly } from "../fixtures/flyctl/run.ts";
import { startFakeNeon, type FakeNeon } from "../fixtures/neon/server.ts";
import { startTestPg, type TestPgServer } from "../setup/pg-server.ts";
import { flyTestEnv, startFakeSite, writeFlyAppsEnv } from "./fly-world.ts";
import { runPipeline, tempDir, tempRepo } from "./harness.ts";

// After something went wrong on fly (issue #8): partly failed rolling deploys, a failed client
// deploy after the backend shipped, a release made by hand, a secrets apply that fails halfway.
const TOKEN = "FlyV1 fm2_recovery_token";
const CLIENT = "ops-rec-client";
const BACKEND = "ops-rec-backend";
const PLANTED = "tok_live_RECOVERY_PLANTED_1";
const NEXT_TOKEN = "tok_live_RECOVERY_NEXT_2";
const HAND_IMAGE = `registry.fly.io/${CLIENT}:deployment-01HANDMADE`;

const repo = tempRepo({
  opsConfig: (t) =>
    t
      .replace("deadlineMs: 90_000,", "deadlineMs: 4_000,")
      .replace('  migrationsDir: "migrations",', '  migrationsDir: "migrations",\n  neon: { pollIntervalMs: 50 },'),
});
const stateDir = tempDir("ops-fly-recovery-");
const flyState = join(stateDir, "fly-state.json");
const clientToml = join(repo.dir, "infra", "fly", "client.fly.toml");
let pg: TestPgServer;
let neon: FakeNeon;
let site: Server;
let healthzBroken = false;
let env: Record<string, string | undefined>;

const calls = () => readFakeFlyState(flyState).calls;
const app = (name: string) => readFakeFlyState(flyState).apps[name]!;
const imagesOf = (name: string) =>
  app(name)
    .machines.map((m) => m.config.image)
    .sort();
const runIdOf = (out: string) => out.match(/run (\d{8}-\d{6}-[0-9a-f]{4}) opened/)![1]!;
const knobs = (fn: (k: ReturnType<typeof readFakeFlyState>["knobs"]) => void) => updateFakeFlyState(flyState, (s) => void fn(s.knobs));
const secretsFile = (token: string) =>
  writeFileSync(
    join(repo.dir, ".env.production"),
    [
      `DATABASE_URL=postgresql://app:pw@db.internal:5432/app?sslmode=require`,
      `BACKEND_AUTH_TOKEN=${token}`,
      `SESSION_SECRET=session-value-1-0123456789abcdef0123`,
    ].join("\n"),
    { mode: 0o600 },
  );

beforeAll(async () => {
  pg = await startTestPg({ password: "pw" });
  neon = await startFakeNeon({ apiKey: "neon_api_RECOVERY_KEY_123" });
  neon.knobs.pollsToFinish = 1;
  createFakeFlyState(flyState, { validTokens: [TOKEN], apps: { [CLIENT]: {}, [BACKEND]: {} } });
  const started = await startFakeSite(flyState, { client: CLIENT, backend: BACKEND }, { broken: () => healthzBroken });
  site = started.server;
  writeFlyAppsEnv(repo.dir, { client: CLIENT, backend: BACKEND }, started.port, neon);
  secretsFile(PLANTED);
  env = flyTestEnv({ stateDir, flyState, token: TOKEN, neon, pgPort: pg.port });
});

afterAll(async () => {
  site?.close();
  await neon?.close();
  await pg?.stop();
});

describe("fly: recovering from failures (stand-ins)", () => {
  let good: string;
  let smokeFailed: string;

  it("two good deploys, then one whose smoke checks fail and is rolled back", async () => {
    for (let i = 0; i < 2; i++) {
      const res = await runPipeline(repo, env);
      expect(res.code, res.out).toBe(0);
      good = runIdOf(res.out);
    }
    healthzBroken = true;
    const bad = await runPipeline(repo, env);
    healthzBroken = false;
    expect(bad.failedAt).toBe("smoke");
    smokeFailed = runIdOf(bad.out);
    // Defect 6: the failure names the check, its method and URL path, and its last 3 attempts.
    const site = new URL(readFileSync(join(repo.dir, "infra", "fly", "apps.env"), "utf8").match(/^PUBLIC_URL=(.*)$/m)![1]!).host;
    expect(bad.out).toMatch(
      new RegExp(`healthz proves the release: GET /healthz on ${site.replace(".", "\\.")} failed after \\d+ attempts: .*HTTP 503`),
    );
    const attempts = bad.out.slice(bad.out.indexOf("healthz proves the release: GET /healthz")).split("\n").slice(1, 5);
    expect(attempts[0]).toMatch(/^\s+last 3 attempts:$/);
    for (const line of attempts.slice(1)) expect(line).toMatch(/^\s+\d{4}-\d{2}-\d{2}T\S+ \(\+\d+\.\ds\): HTTP 503/);
    const history = await repo.script("history", ["--json"], env);
    const row = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data.find(
      (h: { runId: string }) => h.runId === smokeFailed,
    );
    expect(row).toMatchObject({ status: "rolled-back", failedStep: "smoke" });
    expect(imagesOf(CLIENT)).toEqual([`registry.fly.io/${CLIENT}:${good}`, `registry.fly.io/${CLIENT}:${good}`]);
  });

  it("a client deploy that fails after the backend shipped rolls the backend back (onDeployFailure default) and says what serves", async () => {
    const toml = readFileSync(clientToml, "utf8");
    writeFileSync(
      clientToml,
      toml.replace('[deploy]\n  strategy = "rolling"', '[deploy]\n  strategy = "rolling"\n  release_command = "node -e 0"'),
    );
    knobs((k) => {
      k.failReleaseCommandFor = [CLIENT];
    });
    const res = await runPipeline(repo, env);
    knobs((k) => {
      k.failReleaseCommandFor = [];
    });
    writeFileSync(clientToml, toml);
    const runId = runIdOf(res.out);
    expect(res.failedAt).toBe("deploy");
    expect(res.code).toBe(1);
    expect(res.out).toContain("onDeployFailure=rollback-run: rolling back what this run changed");
    expect(imagesOf(BACKEND).every((i) => i === `registry.fly.io/${BACKEND}:${good}`)).toBe(true);
    expect(app(BACKEND).env.RELEASE_ID).toBe(good);
    expect(res.out).toMatch(
      new RegExp(
        `What serves now \\(run ${runId}\\)[\\s\\S]*backend\\s+the release before this run[\\s\\S]*client\\s+the release before this run`,
      ),
    );
    expect(res.out).toContain(
      `This run's changes were rolled back; every app serves the release from before run ${runId}. Fix the cause, then deploy again: pnpm turbo run production-deploy`,
    );
    const history = await repo.script("history", ["--json"], env);
    const row = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data.find(
      (h: { runId: string }) => h.runId === runId,
    );
    expect(row.status).toBe("rolled-back");
  });

  it("with onDeployFailure: stop, a rolling deploy that fails halfway is left mixed and named so, with the commands back", async () => {
    repo.setConfig((t) =>
      t
        .replace("deadlineMs: 90_000,", "deadlineMs: 4_000,")
        .replace('  publicApp: "client",', '  publicApp: "client",\n  onDeployFailure: "stop",'),
    );
    knobs((k) => {
      k.failHealthFor = [CLIENT];
    });
    const res = await runPipeline(repo, env);
    knobs((k) => {
      k.failHealthFor = [];
    });
    repo.setConfig((t) => t.replace("deadlineMs: 90_000,", "deadlineMs: 4_000,"));
    const runId = runIdOf(res.out);
    expect(res.failedAt).toBe("deploy");
    expect(imagesOf(CLIENT)).toEqual([`registry.fly.io/${CLIENT}:${runId}`, `registry.fly.io/${CLIENT}:${good}`].sort());
    expect(res.out).toMatch(/backend\s+this run's release/);
    expect(res.out).toMatch(/client\s+MIXED \(part on this run's release\)\s+1 machine on \S+ \(v\d+\), 1 machine on \S+ \(v\d+\)/);
    expect(res.out).toMatch(
      new RegExp(
        `Back to the state before run ${runId}: pnpm ops:rollback --app client && pnpm ops:rollback --app backend --to v\\d+ \\(onDeployFailure is "stop": nothing was rolled back\\)`,
      ),
    );
    expect(res.out).not.toContain("rolling back what this run changed");
  });

  it("rollback of the mixed client plans from every machine and converges them on the release that served before, not on the one whose smoke failed", async () => {
    const plan = await repo.script("rollback", ["--app", "client", "--dry-run"], env);
    expect(plan.code, plan.out).toBe(0);
    expect(plan.out).toMatch(
      new RegExp(
        `client: mixed: 1 machine on \\S+ \\(v\\d+\\), 1 machine on \\S+ \\(v\\d+\\) → v\\d+ registry\\.fly\\.io/${CLIENT}:${good} \\(all 2 machines\\)`,
      ),
    );
    expect(plan.out).not.toContain(`${CLIENT}:${smokeFailed} (all`);
    const before = calls().length;
    const res = await repo.script("rollback", ["--app", "client"], env);
    expect(res.code, res.out).toBe(0);
    const redeploy = calls()
      .slice(before)
      .find((c) => c.argv[0] === "deploy")!;
    expect(redeploy.argv[redeploy.argv.indexOf("--image") + 1]).toBe(`registry.fly.io/${CLIENT}:${good}`);
    expect(imagesOf(CLIENT)).toEqual([`registry.fly.io/${CLIENT}:${good}`, `registry.fly.io/${CLIENT}:${good}`]);
  });

  it("a rollback after that rollback skips the release whose smoke checks failed (the tool's own history)", async () => {
    const plan = await repo.script("rollback", ["--app", "client", "--dry-run"], env);
    expect(plan.code, plan.out).toBe(0);
    const target = plan.out.match(new RegExp(`→ v\\d+ registry\\.fly\\.io/${CLIENT}:(\\S+)`))![1]!;
    expect(target).not.toBe(smokeFailed);
    expect(target).not.toBe(good);
  });

  it("a rollback to a release made by hand (no run id) sets and expects v<version>, and is recorded as succeeded", async () => {
    knobs((k) => {
      k.knownImages = [HAND_IMAGE];
    });
    const hand = await runFly(["deploy", "-c", "infra/fly/client.fly.toml", "-a", CLIENT, "--image", HAND_IMAGE, "--yes"], {
      statePath: flyState,
      cwd: repo.dir,
      env: { FLY_API_TOKEN: TOKEN },
    });
    expect(hand.code, hand.stderr).toBe(0);
    const handVersion = app(CLIENT).releases.find((r) => r.ImageRef === HAND_IMAGE)!.Version;
    const next = await runPipeline(repo, env);
    expect(next.code, next.out).toBe(0);
    const res = await repo.script("rollback", ["--app", "client"], env);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain(`→ v${handVersion} ${HAND_IMAGE}`);
    expect(app(CLIENT).env.RELEASE_ID).toBe(`v${handVersion}`);
    expect(res.out).toMatch(/healthz proves the release\s+pass/);
    const history = await repo.script("history", ["--json"], env);
    const row = JSON.parse(history.out.split("\n").find((l) => l.includes('"kind":"result"'))!).data[0];
    expect(row).toMatchObject({ kind: "rollback", status: "succeeded" });
    expect(row.releases.client.to).toBe(`v${handVersion}`);
  });

  it("a secrets apply that fails on the second app names the split key, the live and the staged apps, and the command that applies the rest", async () => {
    secretsFile(NEXT_TOKEN);
    knobs((k) => {
      k.failHealthFor = [CLIENT];
    });
    const res = await repo.script("secrets", ["sync"], env);
    knobs((k) => {
      k.failHealthFor = [];
    });
    expect(res.code).toBe(1);
    expect(res.out).toContain(`applying staged secrets failed on ${CLIENT}`);
    expect(res.out).toContain(`${BACKEND}: BACKEND_AUTH_TOKEN new and live`);
    expect(res.out).toContain(`${CLIENT}: BACKEND_AUTH_TOKEN staged, not live (the old values serve) (this apply failed)`);
    expect(res.out).toContain(`split: BACKEND_AUTH_TOKEN has the new value on ${BACKEND} and the old one on ${CLIENT}`);
    expect(res.out).toContain(`fly secrets deploy -a ${CLIENT}`);
    expect(res.out).not.toContain(NEXT_TOKEN);
    expect(res.out).not.toContain(PLANTED);
  });
  it("diagnostics: a flyctl that is on PATH but fails `version` shows its own stderr, is not called missing, and the token check is skipped", async () => {
    // The stand-in refuses to run without FAKE_FLY_STATE, as a real flyctl fails without a variable or file it needs.
    const res = await repo.script("preflight", [], { ...env, FAKE_FLY_STATE: undefined });
    expect(res.code).toBe(1);
    expect(res.out).toMatch(
      /✖ fly\.cli\s+flyctl is on PATH but `flyctl version --json` failed \(.*exit 2\); flyctl said:\n\s+fake flyctl: FAKE_FLY_STATE is not set/,
    );
    expect(res.out).not.toContain("not installed");
    expect(res.out).toMatch(/fly\.auth\s+skipped: needs fly\.cli, which failed/);
    expect(res.out.match(/✖ fly\./g)).toEqual(["✖ fly."]);
    expect(res.out).not.toContain(TOKEN);
  });

  it("diagnostics: a token Fly rejects is one failed check (fly.auth, with flyctl's words), the checks that need it are skipped", async () => {
    const res = await repo.script("preflight", [], { ...env, FLY_API_TOKEN: "FlyV1 fm2_rejected_RECOVERY" });
    expect(res.code).toBe(1);
    expect(res.out).toMatch(
      /✖ fly\.auth\s+fly auth whoami failed \(`flyctl auth whoami --json`, error\): Fly rejected the token in FLY_API_TOKEN; flyctl said:\n\s+Error: failed retrieving current user: You must be authenticated/,
    );
    expect(res.out.match(/✖ fly\./g)).toEqual(["✖ fly."]);
    expect(res.out).toMatch(/fly\.apps\s+skipped: needs fly\.auth, which failed/);
    expect(res.out).not.toContain("fm2_rejected_RECOVERY");
  });

  it("rollback --db: after a restore, the recorded restore point plans again and restores again; an unknown id's fix says where the right ones are", async () => {
    const points = [...neon.state.branches.values()].filter((b) => b.name.startsWith("restore-"));
    expect(points.length).toBeGreaterThan(0);
    const first = await repo.script("rollback", ["--db", "--yes"], env);
    expect(first.code, first.out).toBe(0);
    const used = neon.state.restores.at(-1)!.sourceBranchId;
    const preserved = neon.state.restores.at(-1)!.preservedBranchId!;
    // The restore moved the point under the preserved branch: it is no longer main's child.
    expect(neon.state.branches.get(used)!.parent_id).toBe(preserved);

    // Planned again by default (the history survived the restore) and by id, with nothing changed by the dry run.
    const restoresBefore = neon.state.restores.length;
    for (const args of [
      ["--db", "--dry-run"],
      ["--db", "--restore-point", used, "--dry-run"],
    ]) {
      const plan = await repo.script("rollback", args, env);
      expect(plan.code, plan.out).toBe(0);
      expect(plan.out).toContain(`from restore point ${neon.state.branches.get(used)!.name} (${used})`);
      // The point was taken before the first run migrated: both migrations are named as undone.
      expect(plan.out).toMatch(/the schema goes back too: 1 init \(applied \S+\), 2 \S+ \(applied \S+\) ran after \S+ and are undone/);
    }
    expect(neon.state.restores.length).toBe(restoresBefore);

    const again = await repo.script("rollback", ["--db", "--restore-point", used, "--yes"], env);
    expect(again.code, again.out).toBe(0);
    expect(neon.state.restores.at(-1)).toMatchObject({ sourceBranchId: used, targetBranchId: neon.defaultBranchId });

    const unknown = await repo.script("rollback", ["--db", "--restore-point", "br-nothing-here-123456", "--dry-run"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain("restore point br-nothing-here-123456 not found");
    expect(unknown.out).toContain("`pnpm ops:history` lists the restore point of each run (column RESTORE POINT)");
    expect(unknown.out).not.toContain("NEON_BRANCH_ID in infra/fly/apps.env");
  });
  it("an app rollback plan names the migrations that stay applied from the database's own table, those applied by hand included", async () => {
    const db = new pgLib.Client({ connectionString: env.MIGRATION_DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT max(id)::int AS n FROM public.migrations");
      const handId = rows[0].n + 1;
      await db.query("INSERT INTO public.migrations (id, name, hash) VALUES ($1, 'hand-fix', 'feed')", [handId]);
      const plan = await repo.script("rollback", ["--app", "client", "--dry-run"], env);
      expect(plan.code, plan.out).toBe(0);
      expect(plan.out).toMatch(
        new RegExp(
          `migrations applied since that release stay applied: ${handId} hand-fix \\(applied \\S+, not by this tool\\) \\[from the database's migrations table`,
        ),
      );
      await db.query("DELETE FROM public.migrations WHERE id = $1", [handId]);
    } finally {
      await db.end();
    }
  });
  it("rollback --db --to <time>: a zone is required, the configured window and the clock are checked; the plan names each database and the preserved branch", async () => {
    const appsEnv = join(repo.dir, "infra", "fly", "apps.env");
    const original = readFileSync(appsEnv, "utf8");
    const admin = new pgLib.Client({ connectionString: env.MIGRATION_DATABASE_URL });
    await admin.connect();
    await admin.query("CREATE DATABASE shop_reports");
    const posts = () => neon.state.requests.filter((r) => r.method !== "GET").length;
    try {
      writeFileSync(appsEnv, `${original}\nNEON_HISTORY_RETENTION_SECONDS=3600\n`);
      const postsBefore = posts();
      const noZone = await repo.script("rollback", ["--db", "--to", "2026-12-07T08:40:00", "--dry-run"], env);
      expect(noZone.code).toBe(2);
      expect(noZone.out).toContain('--to "2026-12-07T08:40:00" has no time zone');
      expect(noZone.out).toContain("e.g. --to 2026-12-07T08:40:00Z (UTC)");

      const both = await repo.script("rollback", ["--db", "--restore-point", "br-x-1", "--to", "2026-12-07T08:40:00Z", "--yes"], env);
      expect(both.code).toBe(2);
      expect(both.out).toContain("--db takes either --restore-point or --to, not both");
      const withApp = await repo.script("rollback", ["--db", "--app", "client", "--yes"], env);
      expect(withApp.code).toBe(2);
      expect(withApp.out).toContain("--db restores the whole database; --app is for rolling back one app");

      const future = await repo.script("rollback", ["--db", "--to", new Date(Date.now() + 3_600_000).toISOString(), "--yes"], env);
      expect(future.code).toBe(1);
      expect(future.out).toMatch(/--to \S+ is in the future \(now is \S+\); nothing was restored/);

      // Two hours ago is inside the stand-in's own 1-day window, so only our configured window refuses it.
      const old = await repo.script("rollback", ["--db", "--to", new Date(Date.now() - 7_200_000).toISOString(), "--yes"], env);
      expect(old.code).toBe(1);
      expect(old.out).toMatch(
        /before the restore window starts \(\S+; a window of 1 h: NEON_HISTORY_RETENTION_SECONDS=3600 in infra\/fly\/apps\.env\)/,
      );
      expect(posts()).toBe(postsBefore);

      // A near-miss that must pass: a past time after main was made, written with a +02:00 offset.
      const created = Date.parse(neon.state.branches.get(neon.defaultBranchId)!.created_at);
      const at = new Date(Math.ceil((created + Date.now()) / 2000) * 1000);
      const local = `${new Date(at.getTime() + 7_200_000).toISOString().slice(0, 19)}+02:00`;
      const plan = await repo.script("rollback", ["--db", "--to", local, "--dry-run"], env);
      expect(plan.code, plan.out).toBe(0);
      expect(plan.out).toContain(
        `restore Neon branch main (${neon.defaultBranchId}) to its state as of ${at.toISOString()}, from its own history (restore window 1 h: NEON_HISTORY_RETENTION_SECONDS=3600 in infra/fly/apps.env)`,
      );
      const dbs = plan.out.match(
        /every database on the branch: (.*) \(read with `SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname` over MIGRATION_DATABASE_URL/,
      )!;
      expect(dbs, plan.out).not.toBeNull();
      const names = dbs[1]!.split(", ");
      expect(names).toEqual(expect.arrayContaining(["postgres", "shop_reports"]));
      expect(names.some((n) => n.startsWith("template"))).toBe(false);
      expect(plan.out).toMatch(
        /the current state is preserved as the new branch main_pre_restore_\d{8}T\d{6}Z, which becomes main's parent/,
      );
      expect(posts()).toBe(postsBefore);

      const applied = await repo.script("rollback", ["--db", "--to", local, "--yes"], env);
      expect(applied.code, applied.out).toBe(0);
      expect(neon.state.restores.at(-1)).toMatchObject({
        targetBranchId: neon.defaultBranchId,
        sourceBranchId: neon.defaultBranchId,
        sourceTimestamp: at.toISOString(),
        preserveUnderName: expect.stringMatching(/^main_pre_restore_\d{8}T\d{6}Z$/),
      });
      expect(applied.out).toMatch(/its previous state is kept as branch main_pre_restore_\d{8}T\d{6}Z/);
    } finally {
      writeFileSync(appsEnv, original);
      await admin.query("DROP DATABASE shop_reports");
      await admin.end();
    }
  });
});
