import type { OpsContext } from "../context.ts";
import type { CheckResult } from "./types.ts";

/** A check group: runs concurrently with the others; a throw becomes one `fail` result. */
export type PreflightCheck = (ctx: OpsContext) => Promise<CheckResult[]> | CheckResult[];
