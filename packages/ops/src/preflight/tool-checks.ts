import type { Runner } from "../runner/types.ts";
import type { CheckResult } from "./types.ts";

/** A tool the pipeline runs, with the lowest version it works with. */
export interface ToolRequirement {
  id: string;
  file: string;
  args: string[];
  /** Pulls `major.minor[.patch]` out of the tool's output. */
  versionPattern: RegExp;
  minVersion: string;
  fix: string;
}

export const LOCAL_TOOLS: ToolRequirement[] = [
  {
    id: "tools.go",
    file: "go",
    args: ["version"],
    versionPattern: /go(\d+\.\d+(?:\.\d+)?)/,
    minVersion: "1.24",
    fix: "Install Go 1.24 or newer (it builds the Go apps).",
  },
  { id: "tools.git", file: "git", args: ["--version"], versionPattern: /(\d+\.\d+(?:\.\d+)?)/, minVersion: "2.30", fix: "Install git." },
  {
    id: "tools.pnpm",
    file: "pnpm",
    args: ["--version"],
    versionPattern: /(\d+\.\d+(?:\.\d+)?)/,
    minVersion: "12.0",
    fix: "npm install -g pnpm@12.4.2",
  },
];

/** Compares dotted versions numerically: -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

export function checkNodeVersion(version = process.versions.node): CheckResult {
  return compareVersions(version, "20.11") >= 0
    ? { id: "tools.node", status: "pass", message: `node ${version}` }
    : { id: "tools.node", status: "fail", message: `node ${version} is older than 20.11`, fix: "Install Node 20.11 or newer." };
}

/** The last lines (at most 6) a failed probe printed on stderr, each passed through `redact`. */
export function probeStderr(stderr: string, redact: (text: string) => string): string[] {
  return stderr
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean)
    .slice(-6)
    .map(redact);
}

/** True when a shell said the command does not exist (exit 127, "command not found"). */
const notFound = (exitCode: number | null, stderr: string) => exitCode === 127 && /command not found|not found/i.test(stderr);

/**
 * Runs each tool's version command and compares. A tool the shell cannot find fails as "not
 * installed" with its install hint; one that runs but fails is reported with its exit code and
 * its own stderr (through `redact`, so no secret value is shown).
 */
export async function checkTools(
  runner: Runner,
  tools: ToolRequirement[],
  redact: (text: string) => string = (t) => t,
): Promise<CheckResult[]> {
  return Promise.all(
    tools.map(async (t): Promise<CheckResult> => {
      const res = await runner({ file: t.file, args: t.args }, { timeoutMs: 15_000 });
      if (!res.ok && notFound(res.exitCode, res.stderr)) {
        return { id: t.id, status: "fail", message: `${t.file} is not installed (command not found on PATH)`, fix: t.fix };
      }
      if (!res.ok) {
        const lines = probeStderr(res.stderr, redact);
        const said = lines.length ? `; it said:\n      ${lines.join("\n      ")}` : "; it printed nothing on stderr";
        return {
          id: t.id,
          status: "fail",
          message: `${t.file} is on PATH but \`${redact(res.command)}\` failed (exit ${res.exitCode ?? `signal ${res.signal ?? "?"}`})${said}`,
          fix: `Fix what ${t.file} says, then run \`${redact(res.command)}\` by hand until it works. ${t.fix}`,
        };
      }
      const version = (res.stdout + res.stderr).match(t.versionPattern)?.[1];
      if (!version) return { id: t.id, status: "warn", message: `could not read the version of ${t.file}`, fix: t.fix };
      return compareVersions(version, t.minVersion) >= 0
        ? { id: t.id, status: "pass", message: `${t.file} ${version}` }
        : { id: t.id, status: "fail", message: `${t.file} ${version} is older than ${t.minVersion}`, fix: t.fix };
    }),
  );
}
