// initdb gets the superuser password through a 0600 file next to the data folder, removed in a
// `finally` whether initdb succeeds or fails. A stand-in initdb records what it was given.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeployError } from "../../src/errors.ts";
import { initCluster } from "../../src/local/pg-cluster.ts";
import { Secret } from "../../src/secrets/secret.ts";

const PLANTED = "pg-pass-PLANTED-51f0c2";
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-pwfile-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** An initdb that writes the mode and content of its --pwfile, and its environment, then exits with `code`. */
function fakeInitdb(code: number): string {
  const path = join(dir, "initdb");
  writeFileSync(
    path,
    `#!/bin/sh
for a in "$@"; do case "$a" in --pwfile=*) f="\${a#--pwfile=}";; esac; done
stat -c %a "$f" > "${dir}/seen-mode"
cat "$f" > "${dir}/seen-content"
env > "${dir}/seen-env"
exit ${code}
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const pwfiles = () => readdirSync(join(dir, "cluster")).filter((f) => f.startsWith(".pg-pwfile-"));

describe("initCluster's password file", () => {
  it("is 0600, holds the password, never reaches initdb's environment, and is gone afterwards", () => {
    initCluster(
      { initdb: fakeInitdb(0), postgres: "/bin/false", root: dir },
      { dataDir: join(dir, "cluster", "data"), password: new Secret(PLANTED), who: {} },
    );
    expect(readFileSync(join(dir, "seen-mode"), "utf8").trim()).toBe("600");
    expect(readFileSync(join(dir, "seen-content"), "utf8")).toBe(`${PLANTED}\n`);
    expect(readFileSync(join(dir, "seen-env"), "utf8")).not.toContain(PLANTED);
    expect(pwfiles()).toEqual([]);
  });

  it("is removed when initdb fails too", () => {
    expect(() =>
      initCluster(
        { initdb: fakeInitdb(1), postgres: "/bin/false", root: dir },
        { dataDir: join(dir, "cluster", "data"), password: new Secret(PLANTED), who: {} },
      ),
    ).toThrow(DeployError);
    expect(readFileSync(join(dir, "seen-mode"), "utf8").trim()).toBe("600");
    expect(pwfiles()).toEqual([]);
  });
});
