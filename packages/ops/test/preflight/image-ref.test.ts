import { describe, expect, it } from "vitest";
import { checkImageRefs, judgeImageRef } from "../../src/preflight/image-ref.ts";

const REPO = "ghcr.io/goauthentik/server";
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("image refs must be pinned: a patch release tag or a digest", () => {
  it.each([
    [`${REPO}:2025.10.1`, "version tag"],
    [`${REPO}:v1.2.3`, "version tag"],
    [`${REPO}:1.2.3-rc1`, "version tag"],
    [`${REPO}:1.2.3-alpine`, "version tag"],
    [`${REPO}@${DIGEST}`, "digest"],
    [`${REPO}:latest@${DIGEST}`, "digest"],
    ["registry.example:5000/team/app:0.0.1", "version tag"],
  ])("%s is pinned (by %s)", (ref, by) => {
    expect(judgeImageRef(ref)).toMatchObject({ pinned: true, by });
  });

  it.each([
    [`${REPO}:latest`, `tag "latest" of ${REPO} is not a version`],
    [`${REPO}:stable`, `tag "stable" of ${REPO} is not a version`],
    [REPO, `"${REPO}" has no tag, so it means ${REPO}:latest`],
    [`${REPO}:2025`, `tag "2025" of ${REPO} names a release line`],
    [`${REPO}:2025.10`, `tag "2025.10" of ${REPO} names a release line`],
    [`${REPO}:v2`, `tag "v2" of ${REPO} names a release line`],
    [`${REPO}:1.2.3.4`, `tag "1.2.3.4" of ${REPO} is not a version`],
    [`${REPO}@sha256:abc`, "is not an image reference"],
    ["GHCR.io/GoAuthentik/Server:2025.10.1", "is not an image reference"],
  ])("%s is refused: %s", (ref, reason) => {
    const v = judgeImageRef(ref);
    expect(v.pinned).toBe(false);
    if (!v.pinned) {
      expect(v.reason).toContain(reason);
      expect(v.fix).toMatch(/sha256|<registry>/);
    }
  });

  it("preflight gives one result per image-only app of the environment, failing at the config key", () => {
    const results = checkImageRefs({
      deployOrder: ["web", "idp", "cache"],
      apps: {
        web: {} as never,
        idp: { image: `${REPO}:2025.10.1` } as never,
        cache: { image: "docker.io/library/redis" } as never,
      },
    });
    expect(results).toEqual([
      { id: "image.idp", status: "pass", message: `idp runs ${REPO}:2025.10.1 (pinned by version tag)` },
      {
        id: "image.cache",
        status: "fail",
        message: 'cache: "docker.io/library/redis" has no tag, so it means docker.io/library/redis:latest, which moves with every release',
        where: "ops.config.ts apps.cache.image",
        fix: "Pin a release: docker.io/library/redis:<MAJOR.MINOR.PATCH>, or a digest (docker.io/library/redis@sha256:…).",
      },
    ]);
  });
});
