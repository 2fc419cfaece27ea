import { finishCommand, runOps } from "@repo/ops";

await runOps(finishCommand());
