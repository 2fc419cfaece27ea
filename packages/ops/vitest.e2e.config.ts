// `pnpm --filter @repo/ops test:e2e`: the real turbo pipeline on the local target, real processes.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    environment: "node",
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    setupFiles: ["test/e2e/setup.ts"],
  },
});
