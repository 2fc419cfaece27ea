/**
 * Vitest globalSetup: one real Postgres for every DB test file of the unit suite (see
 * ./pg-server.ts). Test files read the server URL with `inject("pgUrl")` and create their own
 * database (`createTestDatabase` in ./pg.ts), so files never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { startTestPg } from "./pg-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the shared test server, database `postgres`. */
    pgUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startTestPg({ password: randomBytes(12).toString("hex") });
  project.provide("pgUrl", server.url);
  return () => server.stop();
}
