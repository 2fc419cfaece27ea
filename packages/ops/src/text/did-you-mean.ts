/**
 * "Did you mean" hints for misspelled names (config keys, fly.toml keys, secret keys, app names,
 * Dockerfile stage names). The distance is `leven`'s Levenshtein distance; every hint in src/
 * comes from here so they all agree on what "near" means.
 */
import leven from "leven";

/** How far a name may be from a candidate and still be suggested (edits: insert, delete, substitute). */
export const MAX_SUGGESTION_DISTANCE = 2;

/**
 * The candidate nearest to `word` within {@link MAX_SUGGESTION_DISTANCE} edits (case ignored; on
 * a tie the first in `candidates`), or `undefined` when none is that near.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = MAX_SUGGESTION_DISTANCE + 1;
  for (const c of candidates) {
    const d = leven(word.toLowerCase(), c.toLowerCase(), { maxDistance: bestDistance });
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** `"; did you mean <closest>?"`, or `""` when no candidate is near `word`. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const c = closest(word, candidates);
  return c ? `; did you mean ${c}?` : "";
}
