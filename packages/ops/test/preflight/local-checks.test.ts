// Preflight of the local target: secret values checked against secrets.rules before anything is
// switched, and every stable port this run would listen on checked, naming the port, the
// variable and, when known, the program that holds it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkLocalPorts, checkLocalSecrets } from "../../src/preflight/local-checks.ts";
import { freePort } from "../../src/local/process-utils.ts";
import { testContext } from "../setup/context.ts";

let dir: string;
const servers: Server[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-local-checks-"));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function secretsFile(text: string): string {
  const path = join(dir, ".env.local");
  writeFileSync(path, text);
  chmodSync(path, 0o600);
  return path;
}

const PLANTED_SHORT = "short-planted-Xq7";

describe("checkLocalSecrets applies secrets.rules", () => {
  it("fails a SESSION_SECRET shorter than 32 characters, by length only, naming the file and the fix", async () => {
    const file = secretsFile(`SESSION_SECRET=${PLANTED_SHORT}\nBACKEND_AUTH_TOKEN=${"t".repeat(40)}\n`);
    const { ctx } = await testContext({ env: { OPS_STATE_DIR: join(dir, ".ops"), OPS_SECRETS_FILE: file } });
    const results = checkLocalSecrets(ctx);
    const rule = results.find((r) => r.id === "secrets.rules.SESSION_SECRET");
    expect(rule).toMatchObject({
      status: "fail",
      message: "SESSION_SECRET (given to client) is 17 characters long; it must be at least 32",
      where: file,
    });
    expect(rule!.fix).toContain("secrets.rules.SESSION_SECRET in ops.config.ts");
    expect(JSON.stringify(results)).not.toContain(PLANTED_SHORT);
  });

  it("passes a long enough value", async () => {
    const file = secretsFile(`SESSION_SECRET=${"s".repeat(32)}\nBACKEND_AUTH_TOKEN=${"t".repeat(40)}\n`);
    const { ctx } = await testContext({ env: { OPS_STATE_DIR: join(dir, ".ops"), OPS_SECRETS_FILE: file } });
    expect(checkLocalSecrets(ctx).filter((r) => r.status === "fail")).toEqual([]);
  });
});

describe("checkLocalPorts checks every port this run would listen on", () => {
  it("a client port held by another program fails, naming the port, its variable and the holder's pid", async () => {
    const held = createServer();
    servers.push(held);
    await new Promise<void>((r) => held.listen(0, "127.0.0.1", r));
    const port = (held.address() as { port: number }).port;
    const { ctx } = await testContext({
      env: {
        OPS_STATE_DIR: join(dir, ".ops"),
        OPS_LOCAL_CLIENT_PORT: String(port),
        OPS_LOCAL_BACKEND_PORT: String(await freePort()),
        OPS_LOCAL_PG_PORT: String(await freePort()),
      },
    });
    const results = await checkLocalPorts(ctx);
    expect(results.find((r) => r.id === "ports.client")).toMatchObject({
      status: "fail",
      message: expect.stringMatching(
        new RegExp(`^127\\.0\\.0\\.1:${port} \\(OPS_LOCAL_CLIENT_PORT\\) is used by another program \\(held by pid ${process.pid}: `),
      ),
      where: "OPS_LOCAL_CLIENT_PORT",
    });
    expect(results.filter((r) => r.status === "fail").map((r) => r.id)).toEqual(["ports.client"]);
  });
});
