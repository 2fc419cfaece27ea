// `pnpm --filter client test:e2e`: the production bundle (build/server.mjs) over real HTTP.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    environment: "node",
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
