/** A release as `flyctl releases --json` prints it (fly-go `types.go` `Release`, Go field names; flyctl `internal/command/releases/releases.go`). */
export interface FlyRelease {
  ID: string;
  Version: number;
  Stable?: boolean;
  Status: string;
  Description?: string;
  Reason?: string;
  CreatedAt: string;
  ImageRef: string;
}

/** A machine inside `flyctl status --json` (fly-go `machine_types.go` `Machine`, lowercase keys; flyctl `internal/command/status/status.go`). */
export interface FlyMachine {
  id: string;
  state: string;
  config?: { image?: string; metadata?: Record<string, string> };
  image_ref?: { registry?: string; repository?: string; tag?: string; digest?: string };
  checks?: { name: string; status: string }[];
}

export interface FlyStatus {
  Name: string;
  Deployed: boolean;
  Hostname?: string;
  Version: number;
  Status?: string;
  Machines: FlyMachine[] | null;
}

/** `registry/repository:tag` of a machine, as in its config (what it runs). */
export function machineImage(m: FlyMachine): string | undefined {
  if (m.config?.image) return m.config.image;
  if (m.image_ref?.repository) return `${m.image_ref.registry ? `${m.image_ref.registry}/` : ""}${m.image_ref.repository}${m.image_ref.tag ? `:${m.image_ref.tag}` : ""}`;
  return undefined;
}

/** The image most started machines run; undefined when none runs. */
export function runningImage(status: FlyStatus | undefined): string | undefined {
  const counts = new Map<string, number>();
  for (const m of status?.Machines ?? []) {
    const img = m.state === "started" ? machineImage(m) : undefined;
    if (img) counts.set(img, (counts.get(img) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
}

/** Newest first by Version (flyctl already sorts; this does not rely on it). */
export const newestFirst = (releases: FlyRelease[]) => [...releases].sort((a, b) => b.Version - a.Version);

/** The newest complete release: what "current" means before a deploy. */
export function currentRelease(releases: FlyRelease[]): FlyRelease | undefined {
  return newestFirst(releases).find((r) => r.Status === "complete");
}

/**
 * The rollback target (C-25): `to` (`v40` or `40`) when given, else the newest complete release
 * whose image differs from the running one. Failed releases are never targets.
 * @returns the release, or a reason why there is none.
 */
export function chooseRollbackTarget(releases: FlyRelease[], running: string | undefined, to?: string): { release: FlyRelease } | { reason: string } {
  const sorted = newestFirst(releases);
  if (to !== undefined) {
    const version = Number(to.replace(/^v/, ""));
    const r = sorted.find((x) => x.Version === version);
    if (!r) return { reason: `no release v${version} among the ${sorted.length} newest (flyctl lists 25)` };
    if (r.Status !== "complete") return { reason: `v${version} is ${r.Status}, not complete` };
    return { release: r };
  }
  const runningImage = running ?? currentRelease(sorted)?.ImageRef;
  const r = sorted.find((x) => x.Status === "complete" && x.ImageRef !== runningImage);
  return r ? { release: r } : { reason: `no complete release with an image other than ${runningImage ?? "(none)"} among the ${sorted.length} newest` };
}

/** The release id our deploys put in the image tag (`registry.fly.io/<app>:<runId>`), or undefined. */
export function releaseIdOfImage(imageRef: string): string | undefined {
  const tag = imageRef.split("@")[0]!.split(":").at(-1);
  return tag && /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(tag) ? tag : undefined;
}
