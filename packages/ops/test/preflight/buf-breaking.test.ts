import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bufBreaking } from "../../src/commands/buf.ts";
import { createZxRunner } from "../../src/runner/zx.ts";

const repo = mkdtempSync(join(tmpdir(), "buf-breaking-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));
const git = (...args: string[]) =>
  execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: repo, encoding: "utf8" }).trim();
const proto = (fields: string) => `syntax = "proto3";\npackage demo.v1;\nmessage Status {\n${fields}}\n`;

describe("buf breaking against the deployed commit", () => {
  mkdirSync(join(repo, "proto", "demo", "v1"), { recursive: true });
  git("init", "-q");
  writeFileSync(join(repo, "proto", "demo", "v1", "status.proto"), proto("  string release_id = 1;\n  int64 schema_version = 2;\n"));
  git("add", "-A");
  git("commit", "-qm", "deployed");
  const deployed = git("rev-parse", "HEAD");
  const run = createZxRunner(process.env);

  it("an added field is compatible", async () => {
    writeFileSync(
      join(repo, "proto", "demo", "v1", "status.proto"),
      proto("  string release_id = 1;\n  int64 schema_version = 2;\n  bool ready = 3;\n"),
    );
    const res = await run(bufBreaking(repo, "proto", deployed), { timeoutMs: 60_000 });
    expect(res.exitCode, res.stdout + res.stderr).toBe(0);
  });

  it("a changed field type is reported with the file and field", async () => {
    writeFileSync(join(repo, "proto", "demo", "v1", "status.proto"), proto("  string release_id = 1;\n  string schema_version = 2;\n"));
    const res = await run(bufBreaking(repo, "proto", deployed), { timeoutMs: 60_000 });
    expect(res.exitCode).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/demo\/v1\/status\.proto:\d+:\d+:.*"schema_version"/);
  });
});
