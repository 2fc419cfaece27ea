import { lockCommand, runOps } from "@repo/ops";

await runOps(lockCommand());
