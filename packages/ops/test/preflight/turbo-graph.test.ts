// The pipeline's graph checks, answered by the real turbo: each test writes a small workspace
// shaped like this repository (a scripts package with the pipeline's steps, two apps with deploy
// and production-build scripts), changes one thing, and asks `turbo run production-deploy
// --dry=json` through checkTurboPipeline. Configs turbo accepts and that keep the pipeline's order
// must pass, however they are written.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CheckResult } from "../../src/preflight/types.ts";
import { checkTurboPipeline } from "../../src/preflight/turbo-graph.ts";
import { planArgs } from "../../src/preflight/turbo-plan.ts";
import { createZxRunner } from "../../src/runner/zx.ts";
import { repoRoot } from "../setup/context.ts";

const TURBO = join(repoRoot, "node_modules", ".bin", "turbo");
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

type Json = Record<string, unknown>;
type Tasks = Record<string, Json>;

const ENV = ["OPS_*", "DATABASE_URL", "FLY_API_TOKEN"];
/** The pipeline as this repository's turbo.json writes it. */
function pipelineTasks(): Tasks {
  return {
    build: { dependsOn: ["^build"], outputs: ["build/**", "bin/**"] },
    "production-build": { dependsOn: ["^build", "@mini/scripts#production-preflight"], outputs: ["build/**", "bin/**"] },
    "production-preflight": { cache: false, passThroughEnv: ENV },
    "production-sync-secrets": { cache: false, dependsOn: ["production-preflight"], passThroughEnv: ENV },
    "db-migrate": { cache: false, dependsOn: ["production-preflight"], passThroughEnv: ENV },
    "production-artifacts": {
      cache: false,
      dependsOn: ["production-preflight", "backend#production-build", "client#production-build"],
      passThroughEnv: ENV,
    },
    deploy: { cache: false, dependsOn: ["@mini/scripts#production-artifacts"], passThroughEnv: ENV },
    "backend#deploy": {
      cache: false,
      dependsOn: ["@mini/scripts#production-artifacts", "@mini/scripts#production-sync-secrets", "@mini/scripts#db-migrate"],
      passThroughEnv: ENV,
    },
    "client#deploy": {
      cache: false,
      dependsOn: ["@mini/scripts#production-artifacts", "backend#deploy", "@mini/scripts#production-sync-secrets"],
      passThroughEnv: ENV,
    },
    "production-smoke": { cache: false, dependsOn: ["client#deploy"], passThroughEnv: ENV },
    "production-deploy": { cache: false, dependsOn: ["production-smoke"], passThroughEnv: ENV },
  };
}

const STEP_SCRIPTS = {
  "production-preflight": "tsx preflight.ts --pipeline",
  "production-sync-secrets": "tsx secrets.ts sync --pipeline",
  "db-migrate": "tsx migrate.ts --pipeline",
  "production-artifacts": "tsx artifacts.ts --pipeline",
  "production-smoke": "tsx smoke.ts --pipeline",
  "production-deploy": "tsx finish.ts --pipeline",
};
const appScripts = (app: string) => ({
  "production-build": "pnpm run build",
  build: "true",
  deploy: `tsx ../../scripts/deploy.ts ${app} --pipeline`,
});

interface Workspace {
  turbo?: (t: Json & { tasks: Tasks }) => void;
  scripts?: Record<string, string>;
  apps?: Record<string, Record<string, string>>;
  rootScripts?: Record<string, string>;
}

/** Writes a workspace (root, scripts/, apps/backend, apps/client) and returns its folder. */
function workspace(opts: Workspace = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "ops-turbo-graph-"));
  made.push(dir);
  mkdirSync(join(dir, "node_modules", ".bin"), { recursive: true });
  symlinkSync(TURBO, join(dir, "node_modules", ".bin", "turbo"));
  const write = (path: string, value: unknown) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), JSON.stringify(value, null, 2));
  };
  write("package.json", { name: "mini", private: true, packageManager: "pnpm@12.4.2", scripts: opts.rootScripts ?? {} });
  writeFileSync(join(dir, "pnpm-workspace.yaml"), "packages:\n  - apps/*\n  - scripts\n");
  write("scripts/package.json", { name: "@mini/scripts", scripts: opts.scripts ?? STEP_SCRIPTS });
  for (const app of ["backend", "client"]) write(`apps/${app}/package.json`, { name: app, scripts: opts.apps?.[app] ?? appScripts(app) });
  const turbo = { tasks: pipelineTasks() } as Json & { tasks: Tasks };
  opts.turbo?.(turbo);
  write("turbo.json", turbo);
  return dir;
}

const rules: { requiredEnv: Record<string, string[]>; sideEffectTasks: string[] } = {
  requiredEnv: {
    "production-preflight": ["OPS_TARGET", "DATABASE_URL"],
    "backend#deploy": ["OPS_TARGET", "FLY_API_TOKEN"],
    "client#deploy": ["OPS_TARGET", "FLY_API_TOKEN"],
  },
  sideEffectTasks: ["production-preflight", "db-migrate", "backend#deploy", "client#deploy", "production-deploy"],
};
const apps = { backend: { dir: "apps/backend", artifacts: ["bin/backend"] }, client: { dir: "apps/client", artifacts: ["build"] } };

/** This process's environment without the variables under test (and outside any turbo task). */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(OPS_|TURBO_|FLY_|DATABASE_URL)/.test(k) && k !== "DATABASE_URL") env[k] = v;
  return env;
}

async function check(dir: string, runArgs?: string[], r: typeof rules = rules): Promise<CheckResult[]> {
  const env = cleanEnv();
  return checkTurboPipeline(createZxRunner(env), {
    repoRoot: dir,
    processEnv: env,
    deployOrder: ["backend", "client"],
    apps,
    rules: r,
    ...(runArgs ? { runArgs } : {}),
  });
}
const failed = (rs: CheckResult[]) => rs.filter((r) => r.status !== "pass");

describe("a pipeline turbo plans as the README draws it", () => {
  it("passes, citing the plan's task ids", async () => {
    const results = await check(workspace());
    expect(failed(results)).toEqual([]);
    expect(results).toContainEqual({
      id: "turbo.order",
      status: "pass",
      message:
        "turbo's plan orders @mini/scripts#production-preflight → @mini/scripts#production-sync-secrets + @mini/scripts#db-migrate + @mini/scripts#production-artifacts → backend#deploy → client#deploy → @mini/scripts#production-smoke → @mini/scripts#production-deploy",
    });
    expect(results).toContainEqual({
      id: "turbo.deploy",
      status: "pass",
      message: "client#deploy deploys client: `tsx ../../scripts/deploy.ts client --pipeline`",
    });
    expect(results).toContainEqual({ id: "turbo.env", status: "pass", message: "backend#deploy gets OPS_TARGET, FLY_API_TOKEN" });
  });

  it("passes when the order holds only through other tasks, and the per-app entries are replaced by the generic deploy", async () => {
    // deploy waits for the step before it through a chain of turbo's own making: each app's deploy
    // depends on the generic chain; client reaches db-migrate only through backend#deploy.
    const dir = workspace({
      turbo: (t) => {
        delete t.tasks["backend#deploy"];
        t.tasks.deploy = {
          cache: false,
          dependsOn: ["@mini/scripts#production-artifacts", "@mini/scripts#production-sync-secrets", "@mini/scripts#db-migrate"],
          passThroughEnv: ENV,
        };
        t.tasks["client#deploy"] = { cache: false, dependsOn: ["backend#deploy"], passThroughEnv: ["OPS_*", "FLY_*"] };
      },
    });
    expect(failed(await check(dir))).toEqual([]);
  });

  it("passes this repository's own turbo.json and packages", async () => {
    const env = cleanEnv();
    const results = await checkTurboPipeline(createZxRunner(env), {
      repoRoot,
      processEnv: env,
      deployOrder: ["backend", "client"],
      apps,
      rules: { requiredEnv: { "client#deploy": ["OPS_TARGET", "FLY_API_TOKEN"] }, sideEffectTasks: ["deploy", "production-artifacts"] },
    });
    expect(failed(results)).toEqual([]);
  });
});

describe("every app in deployOrder has a deploy task that runs", () => {
  it("fails when the app's package has no deploy script (turbo would run nothing for it)", async () => {
    const { deploy: _, ...noDeploy } = appScripts("client");
    const results = failed(await check(workspace({ apps: { client: noDeploy } })));
    expect(results).toContainEqual({
      id: "turbo.deploy",
      status: "fail",
      message: 'client#deploy is in turbo\'s plan, but apps/client/package.json has no "deploy" script, so turbo runs nothing for client',
      where: "apps/client/package.json scripts",
      fix: 'Add "deploy": "tsx ../../scripts/deploy.ts client --pipeline" to the scripts of apps/client/package.json.',
    });
  });

  it("fails when nothing in the graph reaches the app's deploy", async () => {
    const results = failed(
      await check(
        workspace({
          turbo: (t) => {
            t.tasks["production-smoke"]!.dependsOn = ["backend#deploy"];
          },
        }),
      ),
    );
    expect(results.map((r) => r.id)).toEqual(["turbo.deploy"]);
    expect(results[0]!.message).toBe(
      "turbo's plan (`turbo run production-deploy --dry=json`) has no deploy task for client (package client): the pipeline would never deploy it",
    );
    expect(results[0]!.fix).toContain('tasks["client#deploy"]');
  });

  it("warns when a deploy script names another app", async () => {
    const results = failed(
      await check(workspace({ apps: { client: { ...appScripts("client"), deploy: "tsx ../../scripts/deploy.ts backend --pipeline" } } })),
    );
    expect(results).toMatchObject([{ id: "turbo.deploy", status: "warn", message: expect.stringContaining("which does not name client") }]);
  });

  it("a plan with no deploy task at all is an error", async () => {
    const dir = workspace({
      turbo: (t) => {
        t.tasks["production-smoke"]!.dependsOn = ["@mini/scripts#db-migrate"];
        t.tasks["production-artifacts"]!.dependsOn = ["production-preflight"];
      },
    });
    const ids = failed(await check(dir)).map((r) => `${r.id} ${r.status}`);
    expect(ids).toContain("turbo.plan fail");
    expect(ids.filter((i) => i === "turbo.deploy fail")).toHaveLength(2);
  });
});

describe("the order edges hold transitively", () => {
  it("fails when client#deploy no longer waits for backend#deploy", async () => {
    const dir = workspace({
      turbo: (t) => {
        t.tasks["production-smoke"]!.dependsOn = ["backend#deploy", "client#deploy"];
        t.tasks["client#deploy"]!.dependsOn = [
          "@mini/scripts#production-artifacts",
          "@mini/scripts#production-sync-secrets",
          "@mini/scripts#db-migrate",
        ];
      },
    });
    expect(failed(await check(dir))).toEqual([
      {
        id: "turbo.order",
        status: "fail",
        message:
          "client#deploy does not wait for backend#deploy in turbo's plan (`turbo run production-deploy --dry=json`): deployOrder would not be kept",
        where: 'turbo.json tasks["client#deploy"]',
        fix: 'Add "backend#deploy" (or a task that depends on it) to tasks["client#deploy"].dependsOn in turbo.json.',
      },
    ]);
  });

  it("fails when migrations do not wait for preflight's lock, naming the generic entry that defines the task", async () => {
    const results = failed(
      await check(
        workspace({
          turbo: (t) => {
            t.tasks["db-migrate"]!.dependsOn = [];
          },
        }),
      ),
    );
    expect(results).toEqual([
      expect.objectContaining({
        id: "turbo.order",
        message: expect.stringMatching(
          /^@mini\/scripts#db-migrate does not wait for @mini\/scripts#production-preflight .*: migrations would run before the run holds the deploy lock$/,
        ),
        where: 'turbo.json tasks["db-migrate"]',
      }),
    ]);
  });

  it("fails when the smoke checks can start before the last deploy", async () => {
    const dir = workspace({
      turbo: (t) => {
        t.tasks["production-smoke"]!.dependsOn = ["backend#deploy"];
        t.tasks["production-deploy"]!.dependsOn = ["production-smoke", "client#deploy"];
      },
    });
    expect(failed(await check(dir)).map((r) => r.message)).toEqual([
      "@mini/scripts#production-smoke does not wait for client#deploy in turbo's plan (`turbo run production-deploy --dry=json`): the smoke checks would run before this app is deployed",
    ]);
  });
});

describe("builds wait for the lock", () => {
  it("fails when the deploys use the plain build, which runs before preflight (a refused run would rewrite the build)", async () => {
    const dir = workspace({
      turbo: (t) => {
        for (const key of ["deploy", "backend#deploy", "client#deploy"]) (t.tasks[key]!.dependsOn as string[]).push("build");
      },
    });
    const lockFirst = failed(await check(dir)).filter((r) => r.id === "turbo.lock-first");
    expect(lockFirst.map((r) => r.message)).toEqual([
      "backend#build writes bin/**, build/** in apps/backend before the run holds the deploy lock: a run the lock refuses would still rewrite that output while another run deploys",
      "client#build writes bin/**, build/** in apps/client before the run holds the deploy lock: a run the lock refuses would still rewrite that output while another run deploys",
    ]);
  });

  it("fails when the snapshot does not wait for a build", async () => {
    const dir = workspace({
      turbo: (t) => {
        t.tasks["production-artifacts"]!.dependsOn = ["production-preflight", "backend#production-build"];
      },
    });
    expect(failed(await check(dir))).toEqual([
      {
        id: "turbo.build",
        status: "fail",
        message:
          "turbo's plan (`turbo run production-deploy --dry=json`) builds nothing in apps/client: @mini/scripts#production-artifacts would snapshot whatever apps/client/build holds now (an old build, or another one's) and client would ship it",
        where: 'turbo.json tasks["production-artifacts"]',
        fix: 'Add "client#production-build" to tasks["production-artifacts"].dependsOn in turbo.json (and a "production-build" script to apps/client/package.json).',
      },
    ]);
  });

  it("fails when a build in the plan can finish after the snapshot", async () => {
    // client#production-build stays in the plan (the deploy needs it) but the snapshot does not wait for it.
    const dir = workspace({
      turbo: (t) => {
        t.tasks["production-artifacts"]!.dependsOn = ["production-preflight", "backend#production-build"];
        (t.tasks["client#deploy"]!.dependsOn as string[]).push("client#production-build");
      },
    });
    expect(failed(await check(dir)).map((r) => r.message)).toEqual([
      "@mini/scripts#production-artifacts does not wait for client#production-build in turbo's plan (`turbo run production-deploy --dry=json`): the build snapshot could be taken before this build wrote its output",
    ]);
  });
});

describe("root tasks and package tasks are told apart", () => {
  it("a step run by the root package (//#name) passes and is cited as //#name", async () => {
    const { "production-smoke": _, ...steps } = STEP_SCRIPTS;
    const dir = workspace({
      scripts: steps,
      rootScripts: { "production-smoke": "tsx scripts/smoke.ts --pipeline" },
      turbo: (t) => {
        t.tasks["production-deploy"]!.dependsOn = ["//#production-smoke"];
        t.tasks["//#production-smoke"] = { cache: false, dependsOn: ["client#deploy"], passThroughEnv: ENV };
      },
    });
    const results = await check(dir, undefined, { ...rules, requiredEnv: { "//#production-smoke": ["OPS_TARGET"] } });
    expect(failed(results)).toEqual([]);
    expect(results).toContainEqual({ id: "turbo.env", status: "pass", message: "//#production-smoke gets OPS_TARGET" });
  });

  it("a root script and a package script of the same step both run: a warning naming both", async () => {
    const dir = workspace({
      rootScripts: { "production-smoke": "tsx scripts/smoke.ts --pipeline" },
      turbo: (t) => {
        t.tasks["production-deploy"]!.dependsOn = ["production-smoke", "//#production-smoke"];
        t.tasks["//#production-smoke"] = { cache: false, dependsOn: ["client#deploy"], passThroughEnv: ENV };
      },
    });
    expect(failed(await check(dir))).toMatchObject([
      {
        id: "turbo.task",
        status: "warn",
        message:
          'turbo would run the "production-smoke" step 2 times: "//#production-smoke", "@mini/scripts#production-smoke" (a root script and a package script, or two packages)',
      },
    ]);
  });

  it("a rule for a package task does not match the root task of the same name", async () => {
    const results = failed(await check(workspace(), undefined, { ...rules, requiredEnv: { "//#production-preflight": ["OPS_TARGET"] } }));
    expect(results).toMatchObject([
      { id: "turbo.env", status: "warn", message: expect.stringContaining('names "//#production-preflight", which turbo\'s plan') },
    ]);
  });
});

describe("env declarations under the env mode in force", () => {
  const undeclared = (t: Json & { tasks: Tasks }) => {
    t.tasks["client#deploy"]!.passThroughEnv = ["OPS_*"];
  };

  it("strict mode: a variable the task does not declare fails, naming the plan's task and the entry to fix", async () => {
    expect(failed(await check(workspace({ turbo: undeclared })))).toEqual([
      {
        id: "turbo.env",
        status: "fail",
        message:
          "turbo would start client#deploy without FLY_API_TOKEN (strict env mode, answered by `turbo run production-deploy --dry=json`)",
        where: 'turbo.json tasks["client#deploy"]',
        fix: 'Add "FLY_API_TOKEN" to tasks["client#deploy"].passThroughEnv in turbo.json.',
      },
    ]);
  });

  it("strict mode: an exclusion in the task's own list is named", async () => {
    const dir = workspace({
      turbo: (t) => {
        t.tasks["client#deploy"]!.passThroughEnv = ["OPS_*", "FLY_*", "!FLY_API_TOKEN"];
      },
    });
    expect(failed(await check(dir))).toMatchObject([
      {
        id: "turbo.env",
        message: expect.stringContaining('"!FLY_API_TOKEN" in its definition removes it'),
        fix: expect.stringMatching(/^Remove "!FLY_API_TOKEN" and add/),
      },
    ]);
  });

  it("a global exclusion does not take back what the task declares (each list stands alone), and globals reach every task", async () => {
    const dir = workspace({
      turbo: (t) => {
        t.globalPassThroughEnv = ["DATABASE_URL", "FLY_*", "!FLY_API_TOKEN"];
        t.tasks["production-preflight"]!.passThroughEnv = ["OPS_*"];
      },
    });
    expect(failed(await check(dir))).toEqual([]);
  });

  it('loose mode from turbo.json ("envMode": "loose") lets every variable through', async () => {
    const results = await check(
      workspace({
        turbo: (t) => {
          undeclared(t);
          t.envMode = "loose";
        },
      }),
    );
    expect(failed(results)).toEqual([]);
    expect(results).toContainEqual({
      id: "turbo.env",
      status: "pass",
      message: "client#deploy runs in loose env mode: turbo passes it every variable",
    });
  });

  it("loose mode from the run's own arguments (--env-mode=loose) is the mode in force", async () => {
    const dir = workspace({ turbo: undeclared });
    expect(failed(await check(dir, ["run", "production-deploy", "--env-mode=loose"]))).toEqual([]);
    expect(failed(await check(dir, ["run", "production-deploy", "--env-mode", "strict"])).map((r) => r.id)).toEqual(["turbo.env"]);
  });
});

describe("side-effect tasks are not cached", () => {
  it("fails on a deploy that turbo would cache, through the generic entry", async () => {
    const dir = workspace({ turbo: (t) => void delete t.tasks["client#deploy"]!.cache });
    expect(failed(await check(dir))).toMatchObject([
      {
        id: "turbo.cache",
        message: "client#deploy has side effects but turbo's plan caches it: on a cache hit turbo replays the old log and skips the work",
      },
    ]);
  });
});

describe("filters", () => {
  it("a filter that selects no package is an error with turbo's own words", async () => {
    const results = await check(workspace(), ["run", "production-deploy", "--filter=nope"]);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ id: "turbo.plan", status: "fail" });
    expect(results[0]!.message).toMatch(
      /^turbo cannot plan the pipeline: `turbo run production-deploy --filter=nope --dry=json` failed \(exit 1\); it said:\n/,
    );
    expect(results[0]!.message).toContain("No package found with name 'nope'");
  });

  it("a filter that leaves out the steps' package: the steps it selects run nothing", async () => {
    const results = failed(await check(workspace(), ["run", "production-deploy", "--filter=client"]));
    expect(results.map((r) => r.message)).toEqual([
      'turbo\'s plan (`turbo run production-deploy --filter=client --dry=json`) selects "client#production-smoke", none of which has a "production-smoke" script: turbo would run nothing for that step',
      'turbo\'s plan (`turbo run production-deploy --filter=client --dry=json`) selects "client#production-deploy", none of which has a "production-deploy" script: turbo would run nothing for that step',
    ]);
  });

  it("a filter that selects the whole pipeline passes", async () => {
    expect(failed(await check(workspace(), ["run", "production-deploy", "--filter=@mini/scripts"]))).toEqual([]);
  });
});

describe("planArgs", () => {
  it("replays the run's own command without output flags, credentials or the tasks' arguments", () => {
    expect(planArgs("production-deploy")).toEqual(["run", "production-deploy", "--dry=json"]);
    expect(
      planArgs("production-deploy", ["run", "production-deploy", "--filter", "web", "--summarize", "--env-mode=loose", "--", "--dry-run"]),
    ).toEqual(["run", "production-deploy", "--filter", "web", "--env-mode=loose", "--dry=json"]);
    expect(planArgs("production-deploy", ["run", "production-deploy", "--dry", "--graph", "g.svg", "-F", "client", "--only"])).toEqual([
      "run",
      "production-deploy",
      "-F",
      "client",
      "--only",
      "--dry=json",
    ]);
    // Global flags (before or after `run`) and flags with values stay whole: the plan of another root turbo.json.
    expect(
      planArgs("production-deploy", ["run", "production-deploy", "--root-turbo-json", "/tmp/t.json", "--token", "secret-token"]),
    ).toEqual(["run", "production-deploy", "--root-turbo-json", "/tmp/t.json", "--dry=json"]);
    expect(planArgs("production-deploy", ["--cwd", "sub", "run", "production-deploy", "--dry=json"])).toEqual([
      "--cwd",
      "sub",
      "run",
      "production-deploy",
      "--dry=json",
    ]);
    // `pnpm turbo --version` or `pnpm turbo prune`: not a run; the pipeline's own plan is checked.
    expect(planArgs("production-deploy", ["prune", "client"])).toEqual(["run", "production-deploy", "--dry=json"]);
  });

  it("replays another root turbo.json, as turbo plans it", async () => {
    const dir = workspace();
    const other = join(dir, "other-turbo.json");
    writeFileSync(other, JSON.stringify({ tasks: { ...pipelineTasks(), "db-migrate": { cache: false, passThroughEnv: ENV } } }));
    expect(failed(await check(dir))).toEqual([]);
    expect(failed(await check(dir, ["run", "production-deploy", "--root-turbo-json", other])).map((r) => r.id)).toEqual(["turbo.order"]);
  });
});
