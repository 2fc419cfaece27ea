// Separate from vite.config.ts: the Remix plugin is not meant to run under vitest.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "node_modules/**"],
    environment: "node",
    testTimeout: 15_000,
    hookTimeout: 15_000,
  },
});
