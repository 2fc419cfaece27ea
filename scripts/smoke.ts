import { smokeCommand, runOps } from "@repo/ops";

await runOps(smokeCommand());
