import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const tsx = createRequire(import.meta.url).resolve("tsx");
const register = fileURLToPath(new URL("./load-trace/register.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "ops-lazy-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `scripts/<script>.ts` in a fresh node, as `pnpm ops:<script>` does, and lists every module it resolved. */
function modulesLoadedBy(script: string, env: Record<string, string>): { status: number | null; output: string; modules: string[] } {
  const out = join(work, `${script}.trace`);
  const res = spawnSync(process.execPath, ["--import", tsx, "--import", register, join(repoRoot, "scripts", `${script}.ts`)], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? work, LOAD_TRACE_OUT: out, NO_COLOR: "1", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}`, modules: readFileSync(out, "utf8").split("\n").filter(Boolean) };
}

describe("ops:status on local loads only what it runs", () => {
  const run = modulesLoadedBy("status", { OPS_TARGET: "local", OPS_ENV: "lazy-check", OPS_STATE_DIR: join(work, "state") });
  // The package of each module from node_modules: what follows the last `/node_modules/` (pnpm's `.pnpm/<id>/node_modules/<name>/…`).
  const packages = [
    ...new Set(
      run.modules.flatMap((m) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/.exec(m.slice(m.lastIndexOf("/node_modules/")))?.[1] ?? []),
    ),
  ].sort();
  const ours = run.modules.filter((m) => m.includes("/packages/ops/src/")).map((m) => m.split("/packages/ops/src/")[1]!);

  it("runs and the trace saw the local target (the hook works)", () => {
    expect(run.status, run.output).toBe(0);
    expect(ours).toContain("steps/status.ts");
    expect(ours).toContain("local/target.ts");
  });

  it("loads nothing of fly or Neon", () => {
    expect(ours.filter((m) => m.startsWith("fly/") || m === "neon/client.ts")).toEqual([]);
  });

  it('loads no third-party package but zod and leven (config validation and its "did you mean") while nothing runs', () => {
    // gRPC only for a health check of a running app, pg only for a running database, zx only for a command.
    // leven is one small file without dependencies, needed the moment a config error names a near key.
    expect(packages).toEqual(["leven", "zod"]);
  });
});
