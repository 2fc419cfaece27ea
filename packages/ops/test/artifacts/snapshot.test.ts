import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { pruneSnapshots, snapshotArtifacts, treeDigest, verifySnapshot } from "../../src/artifacts/snapshot.ts";
import { DeployError } from "../../src/errors.ts";

const dirs: string[] = [];
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "ops-snapshot-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An app folder with a client-like build: `build/server.mjs` and `build/client/app.js`. */
function appWithBuild(server = "export const v = 1;\n"): string {
  const app = temp();
  mkdirSync(join(app, "build", "client"), { recursive: true });
  writeFileSync(join(app, "build", "server.mjs"), server);
  writeFileSync(join(app, "build", "client", "app.js"), "console.log('hi');\n");
  return app;
}

describe("treeDigest", () => {
  it("is the same for the same content in two places, and differs when one byte, a name or the executable bit differs", () => {
    const a = appWithBuild();
    const b = appWithBuild();
    const base = treeDigest(a, ["build"]);
    expect(base.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(base.files).toBe(2);
    expect(base.bytes).toBe("export const v = 1;\n".length + "console.log('hi');\n".length);
    expect(treeDigest(b, ["build"]).digest).toBe(base.digest);

    writeFileSync(join(b, "build", "server.mjs"), "export const v = 2;\n");
    expect(treeDigest(b, ["build"]).digest).not.toBe(base.digest);

    const c = appWithBuild();
    chmodSync(join(c, "build", "server.mjs"), 0o755);
    expect(treeDigest(c, ["build"]).digest).not.toBe(base.digest);

    const d = appWithBuild();
    rmSync(join(d, "build", "client", "app.js"));
    writeFileSync(join(d, "build", "client", "main.js"), "console.log('hi');\n");
    expect(treeDigest(d, ["build"]).digest).not.toBe(base.digest);
  });

  it("names a missing artifact", () => {
    const a = temp();
    expect(() => treeDigest(a, ["bin/backend"])).toThrow(DeployError);
    expect(() => treeDigest(a, ["bin/backend"])).toThrow(`${join(a, "bin/backend")} not found`);
  });
});

describe("snapshotArtifacts", () => {
  it("keeps what the build held when it was taken, whatever rewrites the build afterwards", () => {
    const app = appWithBuild("export const v = 'run-1';\n");
    const store = temp();
    const snap = snapshotArtifacts({ app: "client", appDir: app, artifacts: ["build"], store });
    expect(snap.dir).toBe(join(store, "client", snap.digest.slice("sha256:".length)));
    // Another build rewrites the app's folder (what a refused run's build or `pnpm build` did).
    rmSync(join(app, "build"), { recursive: true });
    mkdirSync(join(app, "build"));
    writeFileSync(join(app, "build", "server.mjs"), "export const v = 'run-2';\n");
    expect(readFileSync(join(snap.dir, "build", "server.mjs"), "utf8")).toBe("export const v = 'run-1';\n");
    expect(readFileSync(join(snap.dir, "build", "client", "app.js"), "utf8")).toBe("console.log('hi');\n");
    expect(() => verifySnapshot(snap)).not.toThrow();
  });

  it("makes the copied files read-only and keeps executable bits", () => {
    const app = temp();
    mkdirSync(join(app, "bin"));
    writeFileSync(join(app, "bin", "backend"), "#!/bin/sh\necho ok\n", { mode: 0o755 });
    const snap = snapshotArtifacts({ app: "backend", appDir: app, artifacts: ["bin/backend"], store: temp() });
    expect(statSync(join(snap.dir, "bin", "backend")).mode & 0o777).toBe(0o555);
  });

  it("reuses the snapshot of identical content and leaves no temporary copy behind", () => {
    const store = temp();
    const first = snapshotArtifacts({ app: "client", appDir: appWithBuild(), artifacts: ["build"], store });
    const second = snapshotArtifacts({ app: "client", appDir: appWithBuild(), artifacts: ["build"], store });
    expect(second.digest).toBe(first.digest);
    expect(second.dir).toBe(first.dir);
    expect(readdirSync(join(store, "client"))).toEqual([first.digest.slice("sha256:".length)]);
  });

  it("refuses a missing build output and leaves the store without a snapshot", () => {
    const store = temp();
    const app = temp();
    expect(() => snapshotArtifacts({ app: "client", appDir: app, artifacts: ["build"], store })).toThrow(
      `no build output for client: ${join(app, "build")} not found`,
    );
    expect(readdirSync(join(store, "client"))).toEqual([]);
  });
});

describe("verifySnapshot", () => {
  it("refuses a snapshot whose content changed after it was recorded, naming both digests", () => {
    const snap = snapshotArtifacts({ app: "client", appDir: appWithBuild(), artifacts: ["build"], store: temp() });
    const file = join(snap.dir, "build", "server.mjs");
    chmodSync(file, 0o644);
    writeFileSync(file, "tampered\n");
    expect(() => verifySnapshot(snap)).toThrow(
      /the build snapshot of client was changed after the run made it: recorded sha256:[0-9a-f]{64}, found sha256:[0-9a-f]{64}/,
    );
  });

  it("refuses a snapshot that is gone", () => {
    const snap = snapshotArtifacts({ app: "client", appDir: appWithBuild(), artifacts: ["build"], store: temp() });
    rmSync(snap.dir, { recursive: true, force: true });
    expect(() => verifySnapshot(snap)).toThrow(`${snap.dir} does not exist`);
  });
});

describe("pruneSnapshots", () => {
  it("keeps the newest snapshots and always the one just made", () => {
    const store = temp();
    const snaps = [1, 2, 3, 4, 5].map((n, i) => {
      const s = snapshotArtifacts({ app: "client", appDir: appWithBuild(`export const v = ${n};\n`), artifacts: ["build"], store });
      const t = new Date(Date.UTC(2026, 0, 1, 0, i));
      utimesSync(s.dir, t, t);
      return s;
    });
    // The oldest one is the run's own (reused content): it must stay.
    const removed = pruneSnapshots(store, "client", snaps[0]!.digest, 3);
    expect(removed.sort()).toEqual([snaps[1]!.dir, snaps[2]!.dir].sort());
    for (const s of [snaps[0]!, snaps[3]!, snaps[4]!]) expect(existsSync(s.dir)).toBe(true);
  });
});
