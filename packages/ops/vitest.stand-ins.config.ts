// `pnpm --filter @repo/ops test:stand-ins`: checks that the flyctl stand-in in test/fixtures/flyctl
// behaves like flyctl. Root `pnpm test` (and so CI) runs it; the everyday unit run does not.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/stand-ins/**/*.test.ts"],
    environment: "node",
  },
});
