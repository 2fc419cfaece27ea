/** Public API of @repo/ops: the commands the entry scripts run, and the pieces they compose. */
export { runOps, defineOps, type OpsCommand } from "./cli/run-ops.ts";
export { defineOpsConfig, type OpsConfig, type WrittenOpsConfig } from "./config/schema.ts";
export type { OpsContext, CommonFlags } from "./context.ts";
export * from "./errors.ts";
export { Secret } from "./secrets/secret.ts";
export type { CheckResult, CheckStatus } from "./preflight/types.ts";
export { preflightCommand, runPreflightChecks, type PreflightCheck } from "./steps/preflight.ts";
export { secretsCommand } from "./steps/secrets.ts";
export { migrateCommand, migrateDatabase } from "./steps/migrate.ts";
export { deployCommand } from "./steps/deploy.ts";
export { smokeCommand } from "./steps/smoke.ts";
export { rollbackCommand, rollbackApps } from "./steps/rollback.ts";
export { finishCommand } from "./steps/finish.ts";
export { statusCommand } from "./steps/status.ts";
export { historyCommand } from "./steps/history.ts";
export { lockCommand } from "./steps/lock.ts";
export { localCommand } from "./steps/local.ts";
