import type { ActionDescription } from "../plan/plan.ts";
import type { CheckResult } from "../preflight/types.ts";

/** Everything an operation tells the outside world, as data. Human text, `--json` and tests read the same stream. */
export type OpsEvent =
  | { kind: "step:start"; step: string; target: string; environment: string; runId?: string; dryRun: boolean }
  | { kind: "step:end"; step: string; ok: boolean; durationMs: number; summary?: string }
  | { kind: "info"; message: string }
  | { kind: "warn"; message: string; fix?: string }
  | { kind: "check"; result: CheckResult }
  | { kind: "plan"; step: string; items: string[]; actions?: ActionDescription[]; notes?: string[] }
  | { kind: "action"; step: string; index: number; total: number; action: ActionDescription }
  | { kind: "action:end"; step: string; index: number; ok: boolean; durationMs: number }
  | { kind: "cmd"; command: string; envKeys: string[] }
  | { kind: "cmd:end"; command: string; exitCode: number | null; durationMs: number }
  | { kind: "retry"; what: string; attempt: number; delayMs: number; reason: string }
  | { kind: "log"; source: string; line: string }
  | { kind: "table"; title: string; columns: string[]; rows: string[][] }
  | { kind: "result"; step: string; data: unknown }
  | { kind: "error"; message: string; where?: string; fix?: string; bug?: string };

export type OpsEventKind = OpsEvent["kind"];

/** One formatter per event kind; the mapped type makes a missing one a compile error. */
export type Formatters = { [K in OpsEventKind]: (event: Extract<OpsEvent, { kind: K }>) => string | undefined };
