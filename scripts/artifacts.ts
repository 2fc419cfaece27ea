import { artifactsCommand, runOps } from "@repo/ops";

await runOps(artifactsCommand());
