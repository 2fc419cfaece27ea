import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const entry = join(repoRoot, "packages/ops/prebuild/run.mjs");
const register = fileURLToPath(new URL("./load-trace/register.mjs", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "ops-lazy-"));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Runs `pnpm ops:<script>`'s command (`node packages/ops/prebuild/run.mjs <script>`) in a fresh
 * node and lists every module it resolved. A first, untraced run makes the build if the sources
 * changed, so the traced run is the everyday one: the build exists, nothing is compiled.
 */
function modulesLoadedBy(script: string, env: Record<string, string>): { status: number | null; output: string; modules: string[] } {
  const out = join(work, `${script}.trace`);
  const base = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? work, NO_COLOR: "1", ...env };
  const warm = spawnSync(process.execPath, [entry, script], { cwd: repoRoot, env: base, encoding: "utf8", timeout: 120_000 });
  if (warm.status !== 0) return { status: warm.status, output: `${warm.stdout}${warm.stderr}`, modules: [] };
  const res = spawnSync(process.execPath, ["--import", register, entry, script], {
    cwd: repoRoot,
    env: { ...base, LOAD_TRACE_OUT: out },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: res.status, output: `${res.stdout}${res.stderr}`, modules: readFileSync(out, "utf8").split("\n").filter(Boolean) };
}

/**
 * The library's source modules inside the loaded build outputs, from the build's own record of
 * what each output holds (esbuild's metafile, written as meta.json by the build).
 */
function sourcesInside(modules: string[]): { outputs: string[]; sources: string[]; bundled: string[] } {
  const outputs = modules.filter((m) => m.includes("/packages/ops/dist/")).map((m) => fileURLToPath(m));
  const builds = new Set(outputs.map((o) => o.slice(0, o.indexOf("/", o.indexOf("/dist/") + "/dist/".length))));
  expect(builds.size, `outputs of more than one build loaded: ${[...builds].join(", ")}`).toBe(1);
  const [build] = [...builds];
  const meta = JSON.parse(readFileSync(join(build!, "meta.json"), "utf8")) as Record<string, string[]>;
  const sources = outputs.flatMap((o) => meta[o.slice(build!.length + 1)] ?? []);
  return {
    outputs: outputs.map((o) => o.slice(build!.length + 1)),
    sources: sources.filter((s) => s.startsWith("packages/ops/src/")).map((s) => s.slice("packages/ops/src/".length)),
    bundled: sources.filter((s) => s.includes("node_modules/")),
  };
}

/** The package a module path or URL is from: what follows the last `/node_modules/` (pnpm's `.pnpm/<id>/node_modules/<name>/…`). */
function packageOf(module: string): string | undefined {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(module.slice(module.lastIndexOf("node_modules/")))?.[1];
}

describe("ops:status on local, prebuilt, loads only what it runs", () => {
  const run = modulesLoadedBy("status", { OPS_TARGET: "local", OPS_ENV: "lazy-check", OPS_STATE_DIR: join(work, "state") });
  // Packages node resolved from node_modules, and packages bundled into the outputs it loaded.
  const packages = [...new Set(run.modules.flatMap((m) => packageOf(m) ?? []))].sort();
  const { outputs, sources: ours, bundled } = run.status === 0 ? sourcesInside(run.modules) : { outputs: [], sources: [], bundled: [] };
  const bundledPackages = [...new Set(bundled.flatMap((m) => packageOf(m) ?? []))].sort();

  it("runs the build's JavaScript, not TypeScript (the hook saw the local target)", () => {
    expect(run.status, run.output).toBe(0);
    expect(outputs).toContain("status/status.mjs");
    expect(ours).toContain("steps/status.ts");
    expect(ours).toContain("local/target.ts");
    expect(run.modules.filter((m) => m.endsWith(".ts"))).toEqual([]);
  });

  it("loads no other command and nothing of fly or the Neon API client", () => {
    expect(ours.filter((m) => m.startsWith("steps/") && m !== "steps/status.ts")).toEqual([]);
    expect(ours.filter((m) => m.startsWith("fly/") || m === "neon/client.ts")).toEqual([]);
  });

  it('loads no third-party package but zod (bundled into the build) and leven (config validation and its "did you mean") while nothing runs', () => {
    // gRPC only for a health check of a running app, pg only for a running database, zx only for
    // a command, tsx never, esbuild only when the sources changed since the build. leven is one
    // small file without dependencies, needed the moment a config error names a near key.
    expect(packages).toEqual(["leven"]);
    expect(bundledPackages).toEqual(["zod"]);
  });
});
