// checkTurboPassThrough asks the real turbo (`turbo run production-deploy --dry=json`), once
// against this repository's turbo.json and once against a tiny workspace whose turbo.json lacks
// the pass-through families; and env.ts's list of variables is checked against env.ts's source.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { variablesRead } from "../../src/env.ts";
import { checkTurboPassThrough } from "../../src/preflight/turbo-checks.ts";
import { createZxRunner } from "../../src/runner/zx.ts";
import { repoRoot } from "../setup/context.ts";

const TURBO = join(repoRoot, "node_modules", ".bin", "turbo");
let mini: string;

beforeAll(() => {
  // A workspace of one package with the pipeline's last task, and a turbo.json that passes only OPS_*.
  mini = mkdtempSync(join(tmpdir(), "ops-turbo-mini-"));
  mkdirSync(join(mini, "scripts"));
  mkdirSync(join(mini, "node_modules", ".bin"), { recursive: true });
  symlinkSync(TURBO, join(mini, "node_modules", ".bin", "turbo"));
  writeFileSync(join(mini, "package.json"), JSON.stringify({ name: "mini", private: true, packageManager: "pnpm@12.4.2" }));
  writeFileSync(join(mini, "pnpm-workspace.yaml"), "packages:\n  - scripts\n");
  writeFileSync(
    join(mini, "scripts", "package.json"),
    JSON.stringify({ name: "@mini/scripts", scripts: { "production-deploy": "true", build: "true" } }),
  );
  writeFileSync(
    join(mini, "turbo.json"),
    JSON.stringify({ tasks: { build: {}, "production-deploy": { cache: false, dependsOn: ["build"], passThroughEnv: ["OPS_*"] } } }),
  );
});
afterAll(() => rmSync(mini, { recursive: true, force: true }));

/** This process's environment without the variables under test, plus `extra`. */
function envWith(extra: Record<string, string>) {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!variablesRead().some((p) => (p.endsWith("*") ? k.startsWith(p.slice(0, -1)) : k === p)) && k !== "TURBO_HASH") env[k] = v;
  return { ...env, ...extra };
}

describe("checkTurboPassThrough: answered by turbo itself", () => {
  it("this repository's turbo.json passes proxies, CA bundles and FLY_* knobs to the pipeline", async () => {
    const processEnv = envWith({
      HTTPS_PROXY: "http://proxy.internal:3128",
      no_proxy: "localhost",
      FLY_CONFIG_DIR: "/srv/fly",
      NODE_EXTRA_CA_CERTS: "/etc/ca.pem",
      OPS_TARGET: "fly",
    });
    const results = await checkTurboPassThrough(createZxRunner(processEnv), { repoRoot, processEnv, variables: variablesRead() });
    expect(results).toEqual([
      {
        id: "turbo.passthrough",
        status: "pass",
        message:
          "turbo passes each of the 5 variables this tool reads that are set here to the production-deploy pipeline (asked `turbo run production-deploy --dry=json`)",
      },
    ]);
  });

  it("a turbo.json without them: one warning naming each stripped variable, never a value", async () => {
    const processEnv = envWith({ HTTPS_PROXY: "http://user:hunter2@proxy.internal:3128", FLY_CONFIG_DIR: "/srv/fly", OPS_TARGET: "fly" });
    const results = await checkTurboPassThrough(createZxRunner(processEnv), { repoRoot: mini, processEnv, variables: variablesRead() });
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      id: "turbo.passthrough",
      status: "warn",
      message:
        "turbo would strip FLY_CONFIG_DIR, HTTPS_PROXY from every task of `turbo run production-deploy` (strict env mode, answered by `turbo run production-deploy --dry=json`): the pipeline would run as if they were unset, while `pnpm ops:*` commands run directly see them",
      where: "turbo.json globalPassThroughEnv",
    });
    expect(results[0]!.fix).toContain('"globalPassThroughEnv"');
    expect(JSON.stringify(results)).not.toContain("hunter2");
  });

  it("a variable the tool does not read is none of its business", async () => {
    const processEnv = envWith({ SOME_OTHER_TOOL_KNOB: "1", OPS_TARGET: "fly" });
    const [r] = await checkTurboPassThrough(createZxRunner(processEnv), { repoRoot: mini, processEnv, variables: variablesRead() });
    expect(r?.status).toBe("pass");
  });

  it("inside a turbo task it only says so (turbo has filtered the environment already)", async () => {
    const calls: string[] = [];
    const processEnv = { TURBO_HASH: "b97603ad2528a86c", HTTPS_PROXY: "http://p" };
    const [r] = await checkTurboPassThrough(
      async (cmd) => (calls.push(cmd.file), { ok: true, exitCode: 0, signal: null, stdout: "", stderr: "", durationMs: 0, command: "" }),
      { repoRoot, processEnv, variables: variablesRead() },
    );
    expect(r).toMatchObject({ status: "pass", message: expect.stringContaining("running as a turbo task") });
    expect(calls).toEqual([]);
  });

  it("a turbo that fails is a warning with its stderr, redacted", async () => {
    const processEnv = envWith({});
    const [r] = await checkTurboPassThrough(createZxRunner(processEnv), {
      repoRoot: mini,
      processEnv,
      variables: variablesRead(),
      task: "no-such-task",
      redact: (t) => t.replaceAll("no-such-task", "[REDACTED]"),
    });
    expect(r).toMatchObject({ id: "turbo.passthrough", status: "warn" });
    expect(r!.message).toMatch(
      /^could not ask turbo which variables reach the pipeline: `turbo run no-such-task --dry=json` failed \(exit \d+\); it said:\n/,
    );
    expect(r!.message).toContain("[REDACTED]");
  });
});

describe("variablesRead (env.ts)", () => {
  it("names every variable readOpsEnv reads, found independently in env.ts's source", () => {
    const source = readFileSync(join(repoRoot, "packages/ops/src/env.ts"), "utf8");
    const used = new Set(
      [...source.matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g), ...source.matchAll(/^\s+([A-Z][A-Z0-9_]+): (?:z\.|port\()/gm)].map((m) => m[1]!),
    );
    expect(used.size).toBeGreaterThan(15);
    const read = variablesRead();
    for (const name of used) expect(read, name).toContain(name);
    expect(read).toEqual(
      expect.arrayContaining(["OPS_SECRET_*", "FLY_*", "HTTPS_PROXY", "https_proxy", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"]),
    );
  });

  it("turbo.json passes the child families globally, but never the tokens (those only reach the tasks that declare them)", () => {
    const turbo = JSON.parse(readFileSync(join(repoRoot, "turbo.json"), "utf8")) as { globalPassThroughEnv: string[] };
    expect(turbo.globalPassThroughEnv).toEqual(
      expect.arrayContaining([
        "FLY_*",
        "!FLY_API_TOKEN",
        "!FLY_ACCESS_TOKEN",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
      ]),
    );
  });
});
