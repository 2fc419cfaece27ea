import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkTurboJson, loadTurboJson, type TurboRules } from "../../src/preflight/turbo-checks.ts";
import type { CheckResult } from "../../src/preflight/types.ts";

const RULES: TurboRules = {
  requiredEnv: {
    "db-migrate": ["MIGRATION_DATABASE_URL", "FLY_API_TOKEN"],
    "backend#deploy": ["FLY_API_TOKEN", "DATABASE_URL"],
  },
  secretEnv: ["FLY_API_TOKEN", "DATABASE_URL", "MIGRATION_DATABASE_URL"],
  sideEffectTasks: ["db-migrate", "deploy"],
  buildTasks: ["build"],
};

const GOOD = {
  globalPassThroughEnv: ["CI"],
  tasks: {
    build: { dependsOn: ["^build"], outputs: ["build/**", "bin/**"] },
    "db-migrate": { cache: false, passThroughEnv: ["MIGRATION_DATABASE_URL", "FLY_API_TOKEN"] },
    deploy: { cache: false, passThroughEnv: ["FLY_API_TOKEN", "DATABASE_URL"] },
  },
};

const fails = (r: CheckResult[]) => r.filter((x) => x.status === "fail");
const clone = <T>(v: T): T => structuredClone(v);

describe("checkTurboJson: C-17 strict env mode", () => {
  it("passes a turbo.json that declares everything", () => {
    const results = checkTurboJson(GOOD, RULES);
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(results.map((r) => r.message)).toEqual([
      'task "db-migrate" declares MIGRATION_DATABASE_URL, FLY_API_TOKEN',
      'task "deploy" declares FLY_API_TOKEN, DATABASE_URL',
    ]);
  });

  it("fails a task that does not declare FLY_API_TOKEN, naming task, variable and fix", () => {
    const json = clone(GOOD);
    json.tasks["db-migrate"].passThroughEnv = ["MIGRATION_DATABASE_URL"];
    expect(fails(checkTurboJson(json, RULES))).toEqual([
      {
        id: "turbo.env",
        status: "fail",
        message: 'task "db-migrate" does not declare FLY_API_TOKEN; in strict env mode turbo runs the task without it',
        where: 'turbo.json tasks["db-migrate"]',
        fix: 'add "FLY_API_TOKEN" to tasks["db-migrate"].passThroughEnv in turbo.json',
      },
    ]);
  });

  it("fails one result per missing variable", () => {
    const json = clone(GOOD);
    json.tasks.deploy.passThroughEnv = [];
    expect(fails(checkTurboJson(json, RULES)).map((r) => r.fix)).toEqual([
      'add "FLY_API_TOKEN" to tasks["deploy"].passThroughEnv in turbo.json',
      'add "DATABASE_URL" to tasks["deploy"].passThroughEnv in turbo.json',
    ]);
  });

  it("resolves backend#deploy to its own entry when present (it replaces the generic one)", () => {
    const json = clone(GOOD) as typeof GOOD & { tasks: Record<string, unknown> };
    json.tasks["backend#deploy"] = { cache: false, passThroughEnv: ["FLY_API_TOKEN"] };
    const failed = fails(checkTurboJson(json, RULES));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      where: 'turbo.json tasks["backend#deploy"]',
      fix: 'add "DATABASE_URL" to tasks["backend#deploy"].passThroughEnv in turbo.json',
    });
  });

  it("accepts wildcards and global lists, and honours ! negations", () => {
    const json = {
      globalPassThroughEnv: ["FLY_*"],
      tasks: {
        build: { outputs: ["dist/**"] },
        "db-migrate": { cache: false, passThroughEnv: ["*_DATABASE_URL"] },
        deploy: { cache: false, passThroughEnv: ["DATABASE_URL"] },
      },
    };
    expect(fails(checkTurboJson(json, RULES))).toEqual([]);
    const negated = clone(json);
    negated.tasks["db-migrate"].passThroughEnv.push("!MIGRATION_*");
    expect(fails(checkTurboJson(negated, RULES))).toEqual([
      {
        id: "turbo.env",
        status: "fail",
        message:
          'task "db-migrate" does not get MIGRATION_DATABASE_URL: "!MIGRATION_*" in tasks["db-migrate"].passThroughEnv removes it, and in strict env mode turbo runs the task without it',
        where: 'turbo.json tasks["db-migrate"]',
        fix: 'remove "!MIGRATION_*" from tasks["db-migrate"].passThroughEnv in turbo.json',
      },
    ]);
  });

  it("does not treat a literal \\* or a different case as a match", () => {
    const json = clone(GOOD);
    json.tasks["db-migrate"].passThroughEnv = ["MIGRATION_DATABASE_URL", "FLY_\\*", "fly_api_token"];
    expect(fails(checkTurboJson(json, RULES)).map((r) => r.message)).toEqual([
      'task "db-migrate" does not declare FLY_API_TOKEN; in strict env mode turbo runs the task without it',
    ]);
  });

  it("fails a task that is missing entirely (pkg#task with no generic entry either)", () => {
    const json = { tasks: { build: { outputs: ["build/**"] } } };
    const failed = fails(checkTurboJson(json, RULES));
    expect(failed.map((r) => [r.id, r.message])).toEqual([
      ["turbo.task", 'turbo.json defines no task "db-migrate", so turbo cannot run it'],
      [
        "turbo.task",
        'turbo.json defines no task "backend#deploy" (neither tasks["backend#deploy"] nor tasks["deploy"]), so turbo cannot run it',
      ],
      ["turbo.task", 'turbo.json defines no task "deploy", so turbo cannot run it'],
    ]);
  });
});

describe("checkTurboJson: secrets must be passThroughEnv", () => {
  it("fails a secret in env (it would go into the cache hash)", () => {
    const json = clone(GOOD) as unknown as { tasks: Record<string, Record<string, unknown>> };
    json.tasks.deploy!.env = ["DATABASE_URL"];
    expect(fails(checkTurboJson(json, RULES))).toEqual([
      {
        id: "turbo.secret-env",
        status: "fail",
        message:
          'tasks["deploy"].env includes the secret DATABASE_URL; turbo hashes env values into the cache key and prints the inputs in run summaries',
        where: 'turbo.json tasks["deploy"].env',
        fix: 'move "DATABASE_URL" from tasks["deploy"].env to tasks["deploy"].passThroughEnv',
      },
    ]);
  });

  it("fails a secret in globalEnv through a wildcard, unless negated", () => {
    const json = { ...clone(GOOD), globalEnv: ["FLY_*"] };
    const [r] = fails(checkTurboJson(json, RULES));
    expect(r).toMatchObject({
      where: "turbo.json globalEnv",
      fix: 'add "!FLY_API_TOKEN" to globalEnv (or narrow "FLY_*") and list "FLY_API_TOKEN" in globalPassThroughEnv',
    });
    expect(r!.message).toContain('(through "FLY_*")');
    expect(fails(checkTurboJson({ ...json, globalEnv: ["FLY_*", "!FLY_API_TOKEN"] }, RULES))).toEqual([]);
  });

  it("handles secret patterns", () => {
    const rules = { ...RULES, secretEnv: ["OPS_SECRET_*"] };
    const json = clone(GOOD) as unknown as { tasks: Record<string, Record<string, unknown>> };
    json.tasks.deploy!.env = ["OPS_*"];
    expect(fails(checkTurboJson(json, rules)).map((r) => r.message)).toEqual([
      'tasks["deploy"].env includes the secret OPS_SECRET_* (through "OPS_*"); turbo hashes env values into the cache key and prints the inputs in run summaries',
    ]);
    json.tasks.deploy!.env = ["OPS_*", "!OPS_SECRET_*"];
    expect(fails(checkTurboJson(json, rules))).toEqual([]);
    json.tasks.deploy!.env = ["OPS_PUBLIC_*"];
    expect(fails(checkTurboJson(json, rules))).toEqual([]);
  });
});

describe("checkTurboJson: C-19 caching", () => {
  it("fails a deploy task without cache:false", () => {
    const json = clone(GOOD) as unknown as { tasks: Record<string, Record<string, unknown>> };
    delete json.tasks.deploy!.cache;
    expect(fails(checkTurboJson(json, RULES))).toEqual([
      {
        id: "turbo.cache",
        status: "fail",
        message:
          'task "deploy" has side effects but does not set "cache": false; on a cache hit turbo replays the old log and skips the work',
        where: 'turbo.json tasks["deploy"]',
        fix: 'set "cache": false on tasks["deploy"] in turbo.json',
      },
    ]);
  });

  it("checks every pkg#deploy override of a generic side-effect task", () => {
    const json = clone(GOOD) as unknown as { tasks: Record<string, Record<string, unknown>> };
    json.tasks["client#deploy"] = { cache: true, passThroughEnv: ["FLY_API_TOKEN", "DATABASE_URL"] };
    const failed = fails(checkTurboJson(json, RULES));
    expect(failed.map((r) => r.message)).toEqual([
      'task "client#deploy" has side effects but sets "cache": true; on a cache hit turbo replays the old log and skips the work',
    ]);
  });

  it("warns about a build without outputs, or with empty outputs", () => {
    const json = clone(GOOD) as unknown as { tasks: Record<string, Record<string, unknown>> };
    delete json.tasks.build!.outputs;
    const results = checkTurboJson(json, RULES);
    expect(fails(results)).toEqual([]);
    expect(results.filter((r) => r.status === "warn")).toEqual([
      {
        id: "turbo.outputs",
        status: "warn",
        message: 'task "build" declares no outputs; a cache hit restores no files, so later tasks find no build',
        where: 'turbo.json tasks["build"]',
        fix: 'set "outputs" on tasks["build"] to the folders it writes, e.g. ["build/**", "bin/**"]',
      },
    ]);
    json.tasks.build!.outputs = [];
    expect(checkTurboJson(json, RULES).find((r) => r.status === "warn")?.message).toContain("has empty outputs");
  });
});

describe("checkTurboJson: shape", () => {
  it("fails non-objects, turbo 1 pipeline, and bad env lists", () => {
    expect(checkTurboJson(null, RULES)[0]).toMatchObject({ id: "turbo.schema", status: "fail" });
    expect(checkTurboJson({ pipeline: {} }, RULES)[0]!.message).toBe('turbo.json uses the turbo 1 "pipeline" key; turbo 2 reads "tasks"');
    const json = { ...clone(GOOD), globalEnv: "CI" };
    expect(fails(checkTurboJson(json, RULES))[0]).toMatchObject({ id: "turbo.schema", where: "turbo.json globalEnv" });
  });

  it("checks the repository's own turbo.json with a generic rule set", () => {
    const json = loadTurboJson(join(import.meta.dirname, "../../../../turbo.json"));
    const results = checkTurboJson(json, {
      requiredEnv: { "backend#deploy": ["FLY_API_TOKEN"], "client#deploy": ["FLY_API_TOKEN"] },
      secretEnv: ["FLY_API_TOKEN", "DATABASE_URL"],
      sideEffectTasks: ["deploy", "db-migrate"],
      buildTasks: ["build"],
    });
    expect(fails(results)).toEqual([]);
  });
});

describe("loadTurboJson", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ops-turbo-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads JSONC: comments and trailing commas, keeping // inside strings", async () => {
    const path = join(dir, "ok.json");
    await writeFile(
      path,
      '{\n  // tasks\n  "$schema": "https://turborepo.com/schema.json", /* x */\n  "tasks": { "a": { "outputs": ["//*", "a,]"], }, },\n}\n',
    );
    expect(loadTurboJson(path)).toEqual({ $schema: "https://turborepo.com/schema.json", tasks: { a: { outputs: ["//*", "a,]"] } } });
  });

  it("reports file:line:col of a syntax error", async () => {
    const path = join(dir, "bad.json");
    await writeFile(path, '{\n  "tasks": {\n    "a": { "cache": false }\n    "b": {}\n  }\n}\n');
    expect(() => loadTurboJson(path)).toThrowError(
      expect.objectContaining({
        code: "E_CONFIG",
        where: `${path}:4:5`,
        message: `${path} is not valid JSON at line 4, column 5: comma expected`,
      }),
    );
    const token = join(dir, "token.json");
    await writeFile(token, '{\n  "tasks": {\n    "a": { "cache": flase }\n  }\n}\n');
    expect(() => loadTurboJson(token)).toThrowError(expect.objectContaining({ where: `${token}:3:21` }));
    const truncated = join(dir, "truncated.json");
    await writeFile(truncated, '{\n  "tasks": {');
    expect(() => loadTurboJson(truncated)).toThrowError(expect.objectContaining({ where: `${truncated}:2:13` }));
  });

  it("fails clearly for a missing file", () => {
    expect(() => loadTurboJson(join(dir, "missing.json"))).toThrowError(
      expect.objectContaining({ code: "E_CONFIG", message: `${join(dir, "missing.json")} does not exist` }),
    );
  });

  it("comments and trailing commas keep every position: an error after them is reported where it is", async () => {
    const ok = join(dir, "commas.json");
    await writeFile(ok, '{ /* a */ "x": 1, // b\n "y": [1,2,], }');
    expect(loadTurboJson(ok)).toEqual({ x: 1, y: [1, 2] });
    const bad = join(dir, "after-comment.json");
    await writeFile(bad, '\uFEFF{ /* a long comment */ "x": tru }');
    expect(() => loadTurboJson(bad)).toThrowError(
      expect.objectContaining({ where: `${bad}:1:30`, message: `${bad} is not valid JSON at line 1, column 30: invalid symbol` }),
    );
  });
});
