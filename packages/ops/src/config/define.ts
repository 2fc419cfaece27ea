import type { WrittenOpsConfig } from "./schema.ts";

/**
 * Identity helper for type inference in `ops.config.ts`; the config is validated when a step loads
 * it (`loadOpsConfig`). Its own module, importing only types, so the compiled config
 * (packages/ops/prebuild/config.mjs) holds this function and nothing of zod or the schema.
 */
export function defineOpsConfig(config: WrittenOpsConfig): WrittenOpsConfig {
  return config;
}
