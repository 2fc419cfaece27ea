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
  /** fly-go `MachineConfig`: `env` holds the `[env]` and `-e` values of the deploy that made it. */
  config?: { image?: string; metadata?: Record<string, string>; env?: Record<string, string> };
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
  if (m.image_ref?.repository)
    return `${m.image_ref.registry ? `${m.image_ref.registry}/` : ""}${m.image_ref.repository}${m.image_ref.tag ? `:${m.image_ref.tag}` : ""}`;
  return undefined;
}

/** Newest first by Version (flyctl already sorts; this does not rely on it). */
export const newestFirst = (releases: FlyRelease[]) => [...releases].sort((a, b) => b.Version - a.Version);

/** The newest complete release: what "current" means before a deploy. */
export function currentRelease(releases: FlyRelease[]): FlyRelease | undefined {
  return newestFirst(releases).find((r) => r.Status === "complete");
}

/** The release id our deploys put in the image tag (`registry.fly.io/<app>:<runId>`), or undefined. */
export function releaseIdOfImage(imageRef: string): string | undefined {
  const tag = imageRef.split("@")[0]!.split(":").at(-1);
  return tag && /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(tag) ? tag : undefined;
}
