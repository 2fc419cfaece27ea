import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, freshEnvironment, pnpm, repoRoot, run } from "./harness.ts";
import { databaseSnapshot, folderSnapshot, withoutAppOutput } from "./snapshot.ts";
import { parse as parseDotenv } from "dotenv";
import pg from "pg";
import { type ParsedGanttTask, parseGantt } from "../output/mermaid-oracle.ts";

/** The embedded Postgres URL of an environment, from its generated secrets file (read with dotenv). */
function localDatabaseUrl(env: Record<string, string | undefined>): string {
  const file = readFileSync(join(env.OPS_STATE_DIR!, "local", env.OPS_ENV!, "secrets.env"));
  const password = parseDotenv(file).OPS_LOCAL_PG_PASSWORD!;
  return `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${env.OPS_LOCAL_PG_PORT}/app`;
}

const migrationCount = readdirSync(join(repoRoot, "migrations")).filter((f) => f.endsWith(".sql")).length;

describe("production-deploy on the local target", () => {
  let env: Record<string, string | undefined>;
  let url: string;
  let firstRelease: string;
  let secondRelease: string;
  let secondChart: ParsedGanttTask[];

  beforeAll(async () => {
    env = await freshEnvironment("e2e-pipeline");
    url = `http://127.0.0.1:${env.OPS_LOCAL_CLIENT_PORT}`;
  });

  afterAll(async () => {
    if (env) await pnpm(["ops:local", "down", "--purge", "--yes"], env);
  });

  it("deploys both apps, migrates, and the client's /healthz proves the release", async () => {
    const summary = join(env.OPS_STATE_DIR!, "step-summary.md");
    const res = await pnpm(["turbo", "run", "production-deploy"], { ...env, GITHUB_STEP_SUMMARY: summary });
    expect(res.code, res.out).toBe(0);
    expect(res.out).toContain("▶ preflight  target=local env=e2e-pipeline");
    expect(res.out).toMatch(/Deploy \d{8}-\d{6}-[0-9a-f]{4} succeeded/);
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.backend.status).toBe("SERVING");
    expect(health.body.backend.schemaVersion).toBe(migrationCount);
    expect(health.body.backend.databaseReachable).toBe(true);
    expect(health.body.client.release).toBe(health.body.backend.release);
    expect(res.out).toContain(`release ${health.body.client.release} is serving (previous: none)`);
    firstRelease = health.body.client.release;
    // The deploy report also goes to the CI job summary.
    const report = readFileSync(summary, "utf8");
    expect(report).toContain(`## Deploy ${firstRelease}: succeeded`);
    expect(report).toContain(`| backend | — | ${firstRelease} |`);
    expect(report).toMatch(/Migrations applied: 0_create-migrations-table\.sql, 1_init\.sql, 2_release-starts-host\.sql/);
  });

  it("a second run reuses both builds from the turbo cache and ships a new release", async () => {
    // A file an earlier build left (an uncommitted change built, then reverted): turbo restores its
    // cache over the folder without emptying it, so the run removes the outputs first.
    const stale = join(repoRoot, "apps", "client", "build", "client", "stale-from-an-earlier-build.js");
    writeFileSync(stale, "export {};\n");
    const res = await pnpm(["turbo", "run", "production-deploy"], env);
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/backend:production-build: cache hit/);
    expect(res.out).toMatch(/client:production-build: cache hit/);
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.client.release).not.toBe(firstRelease);
    expect(res.out).toContain(`(previous: ${firstRelease})`);
    secondRelease = health.body.client.release;
    expect(existsSync(stale)).toBe(false);
    const release = join(env.OPS_STATE_DIR!, "local", "e2e-pipeline", "apps", "client", "releases", secondRelease, "build", "client");
    expect(existsSync(release)).toBe(true);
    expect(existsSync(join(release, "stale-from-an-earlier-build.js"))).toBe(false);
    // The report's timeline, as Mermaid reads it: the steps, then each app's deploy phases.
    const reportPath = /report: (\S+);/.exec(res.out)?.[1];
    const block = /```mermaid\n([\s\S]*?)\n```/.exec(readFileSync(reportPath!, "utf8"))?.[1];
    secondChart = (await parseGantt(block!)).tasks;
    expect([...new Set(secondChart.map((t) => t.section))]).toEqual(["steps", "deploy backend", "deploy client"]);
    expect(secondChart.filter((t) => t.section === "deploy client").map((t) => t.name)).toEqual([
      "copy",
      "start",
      "health wait",
      "switch",
      "stop old",
      "record secrets",
    ]);
  });

  it("rollback restarts the previous release of each app and smoke-checks it", async () => {
    const res = await pnpm(["ops:rollback"], env);
    expect(res.code, res.out).toBe(0);
    const health = await getJson(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.client.release).toBe(firstRelease);
    expect(health.body.backend.release).toBe(firstRelease);
    expect(health.body.backend.status).toBe("SERVING");
  });

  it("OPS_DRY_RUN=1 reaches every task: each prints its plan, and the database and state folder stay byte-identical", async () => {
    const snap = async () => ({
      db: await databaseSnapshot(localDatabaseUrl(env)),
      files: folderSnapshot(env.OPS_STATE_DIR!, withoutAppOutput),
    });
    const before = await snap();
    const res = await pnpm(["turbo", "run", "production-deploy"], { ...env, OPS_DRY_RUN: "1" });
    expect(res.code, res.out).toBe(0);
    for (const step of ["preflight", "secrets sync", "migrate", "deploy backend", "deploy client", "smoke", "finish"]) {
      expect(res.out).toContain(`▶ ${step}  target=local env=e2e-pipeline  (dry run: nothing will change)`);
    }
    expect(res.out).toContain("plan (deploy client):");
    expect(res.out).not.toContain("now routes to release");
    // Every task plans the one run this invocation would open, as apply does: its release in each
    // deploy and in the smoke proof, and each deploy ships the snapshot the artifacts step would make.
    const runId = /record run (\d{8}-\d{6}-[0-9a-f]{4}) as running/.exec(res.out)?.[1];
    expect(runId, res.out).toBeDefined();
    for (const app of ["backend", "client"]) {
      expect(res.out).toContain(`start ${app} release ${runId} under a supervisor`);
      expect(res.out).toMatch(new RegExp(`1\\. check the build snapshot sha256:[0-9a-f]{64} of ${app} is unchanged`));
    }
    expect(res.out).toContain(`proving backend=${runId}, client=${runId}`);
    for (const args of [
      ["ops:secrets", "sync", "--dry-run"],
      ["ops:migrate", "--dry-run"],
      ["ops:rollback", "--app", "client", "--to", secondRelease, "--dry-run"],
      ["ops:local", "down", "--purge", "--dry-run"],
      ["ops:lock", "break", "--dry-run"],
      ["ops:secrets", "rotate", "BACKEND_AUTH_TOKEN", "--dry-run"],
    ]) {
      const one = await pnpm(args, env);
      expect(one.code, one.out).toBe(0);
    }
    // Without a terminal, deleting the local state needs --yes: refused, nothing stopped or deleted.
    const purge = await pnpm(["ops:local", "down", "--purge"], env);
    expect(purge.code, purge.out).toBe(2);
    expect(purge.out).toContain('deleting the local state of "e2e-pipeline" needs confirmation');
    expect(await snap()).toEqual(before);
    const health = await getJson(`${url}/healthz`);
    expect(health.body.client.release).toBe(firstRelease);
  });

  it("a rollback plan names the migrations that stay applied from the database's own table, one applied by hand included", async () => {
    const handId = migrationCount + 1;
    const db = new pg.Client({ connectionString: localDatabaseUrl(env) });
    await db.connect();
    try {
      await db.query("INSERT INTO public.migrations (id, name, hash) VALUES ($1, 'hand-fix', 'feed')", [handId]);
      const plan = await pnpm(["ops:rollback", "--app", "client", "--to", secondRelease, "--dry-run"], env);
      expect(plan.code, plan.out).toBe(0);
      expect(plan.out).toMatch(
        new RegExp(
          `migrations applied since that release stay applied: ${handId} hand-fix \\(applied \\S+, not by this tool\\) \\[from the database's migrations table \\(postgres-migrations\\); client ${secondRelease} was deployed at schema version ${migrationCount} \\(run \\S+\\)\\]`,
        ),
      );
    } finally {
      await db.query("DELETE FROM public.migrations WHERE id = $1", [handId]);
      await db.end();
    }
  });

  it("'-- --dry-run' (which turbo hands to the last task only) is refused by preflight before anything runs", async () => {
    const snap = async () => ({
      db: await databaseSnapshot(localDatabaseUrl(env)),
      files: folderSnapshot(env.OPS_STATE_DIR!, withoutAppOutput),
    });
    const before = await snap();
    const res = await pnpm(["turbo", "run", "production-deploy", "--", "--dry-run"], env);
    expect(res.code, res.out).not.toBe(0);
    expect(res.out).toContain("`-- --dry-run` would reach only the task named on the command line");
    expect(res.out).toContain("OPS_DRY_RUN=1 pnpm turbo run production-deploy");
    expect(res.out).not.toContain("▶ migrate");
    expect(await snap()).toEqual(before);
    const health = await getJson(`${url}/healthz`);
    expect(health.body.client.release).toBe(firstRelease);
  });

  it("turbo without the pnpm wrapper: '-- --dry-run' fails loudly at the last task, but ends the real run instead of leaving the lock held", async () => {
    const res = await run(join(repoRoot, "node_modules", ".bin", "turbo"), ["run", "production-deploy", "--", "--dry-run"], env);
    expect(res.code, res.out).not.toBe(0);
    expect(res.out).toContain("this was NOT a dry run: --dry-run reached only this last task");
    expect(res.out).toContain("OPS_DRY_RUN=1 pnpm turbo run production-deploy");
    const lock = await pnpm(["ops:lock"], env);
    expect(lock.out).toContain("free");
    const rollback = await pnpm(["ops:rollback"], env);
    expect(rollback.code, rollback.out).toBe(0);
    // It goes back to what served before the release just made: the first release, which the
    // earlier rollback restored, not the second, which that rollback went away from.
    expect(rollback.out).toContain(`→ ${firstRelease}`);
  });

  it("history lists both deploys and the rollback; status shows what serves", async () => {
    const history = await pnpm(["ops:history", "--json"], env);
    expect(history.code, history.out).toBe(0);
    const result = history.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .find((e) => e.kind === "result");
    const kinds = result.data.map((e: { kind: string; status: string }) => `${e.kind}:${e.status}`);
    expect(kinds).toEqual(["rollback:succeeded", "deploy:succeeded", "rollback:succeeded", "deploy:succeeded", "deploy:succeeded"]);
    expect(result.data[4].migrationsApplied).toHaveLength(migrationCount + 1);
    // --json carries the very times the second run's report charted.
    const second = result.data.find((e: { runId: string }) => e.runId === secondRelease);
    expect(
      second.timeline.map((b: { lane: string; name: string; startedAt: string; durationMs: number }) => [
        b.lane,
        b.name,
        Date.parse(b.startedAt),
        Date.parse(b.startedAt) + b.durationMs,
      ]),
    ).toEqual(secondChart.map((t) => [t.section, t.name, t.startMs, t.endMs]));
    const status = await pnpm(["ops:status"], env);
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(new RegExp(`client\\s+${firstRelease}\\s+running`));
    expect(status.out).toContain("deploy lock: free");
  });
  it.each([
    { name: "ops:secrets sync", argsOf: () => ["ops:secrets", "sync"] },
    { name: "ops:rollback --app client --to <second release>", argsOf: () => ["ops:rollback", "--app", "client", "--to", secondRelease] },
    { name: "ops:local up", argsOf: () => ["ops:local", "up"] },
  ])("$name: apply runs the very actions its dry run printed", async ({ argsOf }) => {
    const args = argsOf();
    if (args[1] === "up") expect((await pnpm(["ops:local", "down"], env)).code).toBe(0);
    const events = (out: string) =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
    const dry = await pnpm([...args, "--dry-run", "--json"], env);
    expect(dry.code, dry.out).toBe(0);
    const printed = events(dry.out).find((e) => e.kind === "plan").actions;
    expect(printed.length).toBeGreaterThan(0);
    const applied = await pnpm([...args, "--json"], env);
    expect(applied.code, applied.out).toBe(0);
    const norm = (a: unknown) => JSON.stringify(a).replace(/\d{8}-\d{6}-[0-9a-f]{4}/g, "<run>");
    expect(
      events(applied.out)
        .filter((e) => e.kind === "action")
        .map((e) => norm(e.action)),
    ).toEqual(printed.map(norm));
  });
});
