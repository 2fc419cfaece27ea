/**
 * A process for test/local/stop-process.test.ts: holds its exit socket, prints "ready", and on
 * SIGTERM prints "term" and exits only when told ("exit" on stdin), or never with --ignore-term.
 */
import { holdExitSignal } from "../../src/local/exit-signal.ts";

const ignoreTerm = process.argv.includes("--ignore-term");
await holdExitSignal();
process.on("SIGTERM", () => {
  process.stdout.write("term\n");
  if (ignoreTerm) return;
  process.stdin.on("data", (d) => {
    if (String(d).includes("exit")) process.exit(0);
  });
});
setInterval(() => undefined, 60_000);
process.stdout.write("ready\n");
