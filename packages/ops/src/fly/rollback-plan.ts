import type { HistoryEntry } from "../db/history.ts";
import { machineImage, newestFirst, releaseIdOfImage, type FlyMachine, type FlyRelease } from "./releases.ts";

/**
 * Rollback planning on fly from facts (C-25): every machine's image and state
 * (`flyctl status --json`), Fly's releases (`flyctl releases --json`) and this tool's own
 * history (which releases it rolled back, which failed their smoke checks).
 */

/** How many machines run one image, started and not. */
export interface ImageShare {
  image: string;
  started: number;
  notStarted: number;
  /** Versions of the releases with this image, newest first. */
  versions: number[];
}

export interface FlyRollbackFacts {
  releases: FlyRelease[];
  machines: FlyMachine[];
  /** Release marker (run id, or `v<version>` for releases without one) → why it is no default target. */
  avoid: ReadonlyMap<string, string>;
}

export interface FlyRollbackDecision {
  /** Machines per image, most started machines first (ties by image, for a stable display). */
  split: ImageShare[];
  /** More than one image among the started machines (a partly failed rolling deploy). */
  mixed: boolean;
  /** The image being rolled back from: the only one running, or, when mixed, the newest release's. */
  leaving: string | undefined;
  /** The marker of the release being left (what the history records as `from`). */
  leavingMarker: string | null;
  /** For the plan: what runs now. */
  from: string;
  target?: FlyRelease;
  reason?: string;
}

/** The marker our history uses for a fly release: the run id in its image tag, else `v<version>`. */
export function releaseMarker(r: FlyRelease): string {
  return releaseIdOfImage(r.ImageRef) ?? `v${r.Version}`;
}

/** Machines grouped by image (a machine with no image is left out). */
export function imageShares(machines: readonly FlyMachine[], releases: readonly FlyRelease[]): ImageShare[] {
  const shares = new Map<string, ImageShare>();
  for (const m of machines) {
    const image = machineImage(m);
    if (!image) continue;
    const s = shares.get(image) ?? {
      image,
      started: 0,
      notStarted: 0,
      versions: newestFirst([...releases])
        .filter((r) => r.ImageRef === image)
        .map((r) => r.Version),
    };
    if (m.state === "started") s.started++;
    else s.notStarted++;
    shares.set(image, s);
  }
  return [...shares.values()].sort((a, b) => b.started - a.started || b.notStarted - a.notStarted || a.image.localeCompare(b.image));
}

function describeShare(s: ImageShare): string {
  const count = s.started + s.notStarted;
  const state = s.notStarted === 0 ? "" : s.started === 0 ? ", not started" : `, ${s.notStarted} not started`;
  return `${count} machine${count === 1 ? "" : "s"} on ${s.image}${s.versions[0] !== undefined ? ` (v${s.versions[0]})` : ""}${state}`;
}

/** `2 machines on <image> (v9), 1 machine on <image> (v8)`. */
export function describeSplit(split: readonly ImageShare[]): string {
  return split.map(describeShare).join(", ");
}

/**
 * The releases this tool must not pick by default for `app`, from its history: releases a
 * rollback went away from, and releases whose run failed at its smoke step (the history's
 * `failedStep`, recorded from the run state, not read from the error text). `--to` still reaches them.
 * @param history runs of the environment, any order.
 */
export function releasesToAvoid(history: readonly HistoryEntry[], app: string): Map<string, string> {
  const avoid = new Map<string, string>();
  for (const h of [...history].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime())) {
    const r = h.releases?.[app];
    if (!r) continue;
    if (h.kind === "rollback" && r.from && r.from !== r.to) avoid.set(r.from, `(rolled back by run ${h.runId})`);
    if (h.kind === "deploy" && r.to && h.status === "rolled-back") avoid.set(r.to, `(run ${h.runId} failed and rolled it back)`);
    else if (h.kind === "deploy" && r.to && h.status === "failed" && h.failedStep === "smoke")
      avoid.set(r.to, `(run ${h.runId} failed at its smoke step)`);
  }
  return avoid;
}

/**
 * Picks the rollback target of one app. With `to` (`v40` or `40`): that release, if complete.
 * Otherwise the newest complete release whose image is not the one being left and that neither a
 * rollback of ours went away from nor failed its smoke checks. The image being left is the one all
 * started machines run or, when they disagree (a rolling deploy that failed halfway), the image of
 * the newest release any machine runs; the chosen image then replaces every machine's.
 */
export function decideFlyRollback(facts: FlyRollbackFacts, to?: string): FlyRollbackDecision {
  const sorted = newestFirst(facts.releases);
  const split = imageShares(facts.machines, sorted);
  const startedImages = split.filter((s) => s.started > 0).map((s) => s.image);
  const candidates = startedImages.length > 0 ? startedImages : split.map((s) => s.image);
  const mixed = startedImages.length > 1;
  const leaving =
    candidates.length === 1
      ? candidates[0]
      : candidates.length > 1
        ? (sorted.find((r) => candidates.includes(r.ImageRef))?.ImageRef ?? split[0]!.image)
        : sorted.find((r) => r.Status === "complete")?.ImageRef;
  const leavingRelease = sorted.find((r) => r.ImageRef === leaving);
  const leavingMarker = leaving ? (releaseIdOfImage(leaving) ?? (leavingRelease ? `v${leavingRelease.Version}` : null)) : null;
  const from = mixed ? `mixed: ${describeSplit(split)}` : split.length > 0 ? describeSplit(split) : (leaving ?? "(nothing runs)");
  const base = { split, mixed, leaving, leavingMarker, from };

  if (to !== undefined) {
    const version = Number(to.replace(/^v/, ""));
    const r = sorted.find((x) => x.Version === version);
    if (!r) return { ...base, reason: `no release v${version} among the ${sorted.length} newest (flyctl lists 25)` };
    if (r.Status !== "complete") return { ...base, reason: `v${version} is ${r.Status}, not complete` };
    if (!mixed && r.ImageRef === leaving) return { ...base, reason: `v${version} runs ${r.ImageRef}, which every machine runs now` };
    return { ...base, target: r };
  }
  const avoidedImages = new Map<string, string>();
  for (const r of sorted) {
    const why = facts.avoid.get(releaseMarker(r));
    if (why && !avoidedImages.has(r.ImageRef)) avoidedImages.set(r.ImageRef, `${releaseMarker(r)} ${why}`);
  }
  const target = sorted.find((r) => r.Status === "complete" && r.ImageRef !== leaving && !avoidedImages.has(r.ImageRef));
  if (target) return { ...base, target };
  const skipped = [...avoidedImages.values()];
  return {
    ...base,
    reason: `no complete release with an image other than ${leaving ?? "(none)"} among the ${sorted.length} newest${skipped.length ? `; skipped ${skipped.join(", ")}; name one with --to vN to go back to it anyway` : ""}`,
  };
}
