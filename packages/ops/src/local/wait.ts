/**
 * Retrying a probe with a short, growing backoff: the local deploy path checks health (and, for
 * processes without an exit socket, liveness) this way instead of at a fixed interval, so a
 * release that is ready in 30 ms is seen in about 30 ms, and a slow one is not hammered.
 */

/** Delays between attempts, in ms: `firstMs`, then ×`factor` each time, at most `maxMs`. */
export interface Backoff {
  firstMs: number;
  factor: number;
  maxMs: number;
}

/** 25, 50, 100, 200, 250, 250, … ms. */
export const DEFAULT_BACKOFF: Backoff = { firstMs: 25, factor: 2, maxMs: 250 };

/** The delay before attempt `n + 1` (n ≥ 1 attempts done), in ms. */
export function backoffDelay(backoff: Backoff, n: number): number {
  return Math.min(backoff.maxMs, backoff.firstMs * backoff.factor ** (n - 1));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `probe` until it returns `{ ok: true }` or `timeoutMs` (wall clock) passes, waiting
 * {@link backoffDelay} between calls (never past the deadline). `opts.sleep` replaces the timer
 * (tests record the delays instead of waiting).
 * @returns the last result, so a failure can say what was seen. Never throws unless `probe` does.
 */
export async function waitFor<T extends { ok: boolean }>(
  probe: () => Promise<T>,
  timeoutMs: number,
  opts: { backoff?: Backoff; sleep?: (ms: number) => Promise<void>; now?: () => number } = {},
): Promise<T> {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const now = opts.now ?? Date.now;
  const deadline = now() + timeoutMs;
  let last = await probe();
  for (let n = 1; !last.ok && now() < deadline; n++) {
    await (opts.sleep ?? sleep)(Math.max(0, Math.min(backoffDelay(backoff, n), deadline - now())));
    last = await probe();
  }
  return last;
}
