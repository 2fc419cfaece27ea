import { afterAll } from "vitest";
import { cleanupTemp } from "./harness.ts";

// Runs after each e2e file's own hooks (which stop what they started).
afterAll(cleanupTemp);
