import { statusCommand, runOps } from "@repo/ops";

await runOps(statusCommand());
