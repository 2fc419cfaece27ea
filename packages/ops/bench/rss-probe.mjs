// `node --import` this to record the process's peak resident memory (KB, getrusage's ru_maxrss)
// when it exits, appended to the file named by BENCH_RSS_OUT. Used by `pnpm bench` only.
import { appendFileSync } from "node:fs";

const out = process.env.BENCH_RSS_OUT;
if (out) process.on("exit", () => appendFileSync(out, `${process.resourceUsage().maxRSS}\n`));
