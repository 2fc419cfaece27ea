import { relative } from "node:path";
import { RULES_SET_BY_RUNNER, squawkLint } from "../commands/squawk.ts";
import type { CheckResult } from "../preflight/types.ts";
import type { Runner } from "../runner/types.ts";
import { listMigrationFiles } from "./validate-files.ts";

/** One squawk finding (`--reporter json`). */
interface SquawkViolation {
  file: string;
  /** 0-based. */
  line: number;
  level: "Warning" | "Error";
  message: string;
  help: string | null;
  rule_name: string;
}

/**
 * Lints the migration files with squawk (locks, rewrites, unsafe DDL). Findings of the rules in
 * `fail` (and squawk errors) fail preflight; the others are warnings with squawk's fix. Rules listed in `exclude` (ops.config.ts
 * `migrate.lintExclude`) and the timeout rules the runner satisfies itself are skipped.
 */
export async function lintMigrations(
  runner: Runner,
  dir: string,
  repoRoot: string,
  opts: { pgVersion: string; exclude: string[]; fail: string[] },
): Promise<CheckResult[]> {
  const files = (await listMigrationFiles(dir).catch(() => [])).map((f) => relative(repoRoot, f.path));
  if (files.length === 0) return [];
  const res = await runner(
    { ...squawkLint(files, { pgVersion: opts.pgVersion, exclude: [...RULES_SET_BY_RUNNER, ...opts.exclude] }), cwd: repoRoot },
    { timeoutMs: 60_000 },
  );
  let violations: SquawkViolation[];
  try {
    violations = JSON.parse(res.stdout || "[]") as SquawkViolation[];
  } catch {
    return [
      {
        id: "migrations.lint",
        status: "warn",
        message: `squawk did not run (exit ${res.exitCode}): ${res.stderr.split("\n")[0] ?? ""}`,
        fix: "Reinstall dependencies (pnpm install); squawk-cli ships its binary in an npm package.",
      },
    ];
  }
  if (violations.length === 0)
    return [{ id: "migrations.lint", status: "pass", message: `squawk found nothing in ${files.length} migration files` }];
  return violations.map((v) => ({
    id: `migrations.lint`,
    status: v.level === "Error" || opts.fail.includes(v.rule_name) ? "fail" : "warn",
    message: `${v.rule_name}: ${v.message}`,
    where: `${v.file}:${v.line + 1}`, // squawk counts lines from 0
    fix:
      v.help ??
      // SQL Postgres cannot parse fails at migrate time whatever the linter says: excluding the rule would only hide it.
      (v.rule_name === "syntax-error"
        ? `Fix the SQL at ${v.file}:${v.line + 1}: Postgres would reject it too (check it with psql, or against a scratch database).`
        : `See squawk's rule ${v.rule_name}, or list it in migrate.lintExclude in ops.config.ts.`),
  }));
}
