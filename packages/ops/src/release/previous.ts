/**
 * The one rule both targets use for "the previous release": the release that served before the
 * current one, walking back through what really served (deploys and rollbacks, in the order they
 * switched traffic), never by creation order. A release is skipped when it failed (never healthy,
 * or its run's smoke checks failed) or when a rollback went away from it; `--to` still reaches it.
 */

/** One switch of traffic: which release started serving, when, and how. */
export interface ServedEntry {
  release: string;
  /** ISO time the switch happened. */
  at: string;
  via: "deploy" | "rollback" | "restart";
}

export type PreviousChoice = { release: string } | { reason: string };

/**
 * @param served every switch of the app, oldest first.
 * @param current the release serving now.
 * @param skipReason why a release may not be a default target (`undefined`: it may).
 */
export function previousServed(
  served: readonly ServedEntry[],
  current: string | null,
  skipReason: (release: string) => string | undefined,
): PreviousChoice {
  const skipped = new Map<string, string>();
  for (let i = served.length - 1; i >= 0; i--) {
    const r = served[i]!.release;
    if (r === current || skipped.has(r)) continue;
    const why = skipReason(r);
    if (!why) return { release: r };
    skipped.set(r, why);
  }
  if (skipped.size === 0) return { reason: `no release served before ${current ?? "the current one"}` };
  return {
    reason: `no earlier release that can serve: ${[...skipped].map(([r, why]) => `${r} ${why}`).join(", ")}; name one with --to to go back to it anyway`,
  };
}
