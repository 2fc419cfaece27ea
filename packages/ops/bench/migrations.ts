/**
 * `preflight` and `migrate --dry-run` against folders of 2, 20, 200 and 2,000 migrations: a copy of
 * the repository's operational files with its packages linked in (as the e2e harness makes),
 * pointed at by OPS_REPO_ROOT, its first migrations the real ones (so the running database's
 * history matches), the rest generated. The database is the bench environment's, already migrated.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median } from "./measure.ts";
import type { Workspace } from "./workspace.ts";

export interface MigrationsResult {
  files: number;
  preflightMs: number;
  migrateDryRunMs: number;
  /** CPU time of `migrate --dry-run` (user + system), when GNU time is installed. */
  migrateDryRunCpuMs?: number;
}

/**
 * `dst` as a folder with a copy of `src`'s package.json and a link to each other entry: turbo plans
 * only workspace packages whose package.json lies inside the repository (preflight asks it).
 */
function linkPackage(src: string, dst: string): void {
  mkdirSync(dst, { recursive: true });
  for (const name of readdirSync(src)) {
    if (name === "package.json") copyFileSync(join(src, name), join(dst, name));
    else symlinkSync(join(src, name), join(dst, name));
  }
}

function repoWithMigrations(ws: Workspace, count: number): string {
  const dir = mkdtempSync(join(tmpdir(), `ops-bench-mig-${count}-`));
  for (const name of ["node_modules", "proto"]) symlinkSync(join(ws.dir, name), join(dir, name));
  for (const group of ["apps", "packages"]) {
    for (const pkg of readdirSync(join(ws.dir, group))) linkPackage(join(ws.dir, group, pkg), join(dir, group, pkg));
  }
  linkPackage(join(ws.dir, "scripts"), join(dir, "scripts"));
  for (const name of ["turbo.json", "pnpm-workspace.yaml", "package.json", ".dockerignore", "ops.config.ts"])
    copyFileSync(join(ws.dir, name), join(dir, name));
  cpSync(join(ws.dir, "infra"), join(dir, "infra"), {
    recursive: true,
    filter: (src) => !/apps\.env$/.test(src) || src.endsWith(".example"),
  });
  mkdirSync(join(dir, "migrations"));
  const real = readdirSync(join(ws.dir, "migrations")).filter((f) => f.endsWith(".sql"));
  for (const f of real) copyFileSync(join(ws.dir, "migrations", f), join(dir, "migrations", f));
  for (let i = real.length + 1; i <= count; i++) {
    writeFileSync(
      join(dir, "migrations", `${i}_bench-table-${i}.sql`),
      `CREATE TABLE bench_${i} (id int PRIMARY KEY, name text NOT NULL);\n`,
    );
  }
  return dir;
}

/** Median wall of each command per folder size. @throws when a command fails. */
export async function migrationScaling(ws: Workspace, sizes: number[], runs: number): Promise<MigrationsResult[]> {
  const out: MigrationsResult[] = [];
  for (const files of sizes) {
    const dir = repoWithMigrations(ws, files);
    try {
      const env = { OPS_REPO_ROOT: dir };
      const time = async (script: string, args: string[]) => {
        const ms: number[] = [];
        const cpu: number[] = [];
        for (let i = 0; i <= runs; i++) {
          const res = await ws.step(script, args, { env, cwd: dir, cpu: true });
          if (res.code !== 0)
            throw new Error(`bench: ${script} ${args.join(" ")} with ${files} migrations exited ${res.code}:\n${res.out.slice(-3000)}`);
          if (i === 0) continue; // the first run compiles the copy's ops.config.ts
          ms.push(res.ms);
          if (res.cpuMs !== undefined) cpu.push(res.cpuMs);
        }
        return { ms: median(ms), cpuMs: cpu.length ? median(cpu) : undefined };
      };
      const preflight = await time("preflight", []);
      const migrate = await time("migrate", ["--dry-run"]);
      out.push({ files, preflightMs: preflight.ms, migrateDryRunMs: migrate.ms, migrateDryRunCpuMs: migrate.cpuMs });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
