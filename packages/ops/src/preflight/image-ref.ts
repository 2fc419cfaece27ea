import { parseAll } from "@swimlane/docker-reference";
import type { OpsConfig } from "../config/schema.ts";
import type { CheckResult } from "./types.ts";

/**
 * Whether an image-only app's image ref (`apps.<app>.image`) is pinned, so that every deploy and
 * every rollback of it runs the same bytes. The ref is read by `@swimlane/docker-reference`, a port
 * of the Docker distribution project's reference grammar (`distribution/reference`), so a ref Fly's
 * registry client would refuse fails here too.
 *
 * The rule: a ref is pinned when it carries a digest (`@sha256:<64 hex>`, with or without a tag), or
 * a tag that names one patch release: `MAJOR.MINOR.PATCH`, an optional leading `v`, an optional
 * suffix after `-` or `+` (`2025.10.1`, `v1.2.3`, `1.2.3-rc1`, `1.2.3-alpine`). Everything else can
 * move under us and fails: no tag (Docker reads it as `latest`), `latest`, `stable`, `edge`, and a
 * release line such as `2025` or `2025.10` (publishers, authentik among them, move those tags to each
 * new patch release).
 */
export type ImageRefVerdict =
  | { pinned: true; by: "digest" | "version tag"; tag: string | undefined }
  | { pinned: false; reason: string; fix: string };

const PATCH_RELEASE_TAG = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z][0-9A-Za-z.+-]*)?$/;

/** Judges one image ref by the rule above. Never throws. */
export function judgeImageRef(ref: string): ImageRefVerdict {
  let parsed: { tag?: string | undefined; digest?: string | undefined };
  try {
    const r = parseAll(ref);
    parsed = { tag: r.tag, digest: r.digest };
  } catch (err) {
    return {
      pinned: false,
      reason: `"${ref}" is not an image reference (${(err as Error).message})`,
      fix: "Write it as <registry>/<repository>:<version> or <registry>/<repository>@sha256:<digest>, lowercase.",
    };
  }
  if (parsed.digest) return { pinned: true, by: "digest", tag: parsed.tag };
  const repo = ref.replace(/:[^/:]*$/, "");
  if (!parsed.tag)
    return {
      pinned: false,
      reason: `"${ref}" has no tag, so it means ${repo}:latest, which moves with every release`,
      fix: `Pin a release: ${repo}:<MAJOR.MINOR.PATCH>, or a digest (${repo}@sha256:…).`,
    };
  if (PATCH_RELEASE_TAG.test(parsed.tag)) return { pinned: true, by: "version tag", tag: parsed.tag };
  const line = /^v?\d+(\.\d+)?$/.test(parsed.tag);
  return {
    pinned: false,
    reason: line
      ? `tag "${parsed.tag}" of ${repo} names a release line, which the publisher moves to each new patch release`
      : `tag "${parsed.tag}" of ${repo} is not a version and can move to another image at any time`,
    fix: `Pin a patch release (${repo}:<MAJOR.MINOR.PATCH>, e.g. the one "${parsed.tag}" points at today) or a digest (${repo}@sha256:…).`,
  };
}

/** One `image.<app>` result per image-only app of the environment: pass when pinned, fail otherwise (at ops.config.ts `apps.<app>.image`). */
export function checkImageRefs(config: Pick<OpsConfig, "deployOrder" | "apps">): CheckResult[] {
  return config.deployOrder.flatMap((app): CheckResult[] => {
    const ref = config.apps[app]?.image;
    if (ref === undefined) return [];
    const v = judgeImageRef(ref);
    return v.pinned
      ? [{ id: `image.${app}`, status: "pass", message: `${app} runs ${ref} (pinned by ${v.by})` }]
      : [{ id: `image.${app}`, status: "fail", message: `${app}: ${v.reason}`, where: `ops.config.ts apps.${app}.image`, fix: v.fix }];
  });
}
