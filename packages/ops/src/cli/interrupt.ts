/**
 * How an interrupted step learns which signal stopped the run, and the exit code that goes with
 * it. turbo stops its tasks with SIGINT whether it got SIGINT or SIGTERM, so in a turbo run the
 * name comes from the file `scripts/turbo.mjs` writes (`OPS_INTERRUPT_FILE`, env.ts).
 */
import { readFileSync } from "node:fs";
import { constants } from "node:os";

/** Signals that arrive again within this window are the same request: the process group's copy and the ones pnpm and tsx relay. */
export const REPEAT_WINDOW_MS = 1_000;

/** 128 + the signal's number, as shells report a process a signal ended: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

function readSignal(file: string): NodeJS.Signals | undefined {
  try {
    const name = readFileSync(file, "utf8").trim();
    return name in constants.signals ? (name as NodeJS.Signals) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The signal that interrupted the run: the name in `file` (written by the turbo wrapper when the
 * run got a signal), waiting up to `waitMs` for it, since turbo may relay its SIGINT before the
 * wrapper wrote the file; else `received`, the signal this process got.
 */
export async function interruptingSignal(received: NodeJS.Signals, file: string | undefined, waitMs = 1_000): Promise<NodeJS.Signals> {
  if (!file) return received;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const named = readSignal(file);
    if (named) return named;
    if (Date.now() >= deadline) return received;
    await new Promise((r) => setTimeout(r, 20));
  }
}
