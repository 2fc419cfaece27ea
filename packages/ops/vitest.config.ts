// `pnpm --filter @repo/ops test`: the everyday unit run. The stand-ins' own tests (they start the
// fake flyctl as a real process, many times) run as `test:stand-ins`; e2e as `test:e2e`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**", "test/stand-ins/**"],
    globalSetup: ["test/setup/postgres.ts"],
    // A hang guard, not a speed target: some unit tests start real processes (the flyctl
    // stand-in, a tiny app), which on a loaded 2-core box can take longer than vitest's 5 s.
    testTimeout: 30_000,
  },
});
