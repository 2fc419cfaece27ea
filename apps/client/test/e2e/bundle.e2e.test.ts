// End to end against the real production bundle: build/ is copied to a temp folder outside the
// repo (so no node_modules can be found) and started with `node build/server.mjs`.
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeBackend, unusedPort, type FakeBackend } from "../helpers/fake-backend";

const BUILD_DIR = fileURLToPath(new URL("../../build", import.meta.url));
const TOKEN = "e2e-token-5f1c2a9b7d3e";

interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

let workDir: string;
let serverFile: string;

function start(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [serverFile], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}\n${err}`)), 10_000);
    const onData = () => {
      const m = /^client release=\S+ listening on http:\/\/127\.0\.0\.1:(\d+) backend=\S+$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stdout: () => out, stderr: () => err, exited });
      }
    };
    child.stdout!.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}\n${err}`));
    });
  });
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), "client-e2e-"));
  cpSync(BUILD_DIR, join(workDir, "build"), { recursive: true });
  serverFile = join(workDir, "build", "server.mjs");
});

afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe("build/server.mjs copied out of the repo", () => {
  let backend: FakeBackend;
  let server: Running;

  beforeAll(async () => {
    backend = await startFakeBackend({ requireToken: TOKEN });
    // no GRPC_PROTO_ROOT: the default must be <dir of server.mjs>/proto
    server = await start({
      BACKEND_GRPC_ADDR: backend.address,
      RELEASE_ID: "client-e2e-1",
      BACKEND_AUTH_TOKEN: TOKEN,
    });
  });

  afterAll(async () => {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
    await backend.close();
  });

  it("logs exactly one startup line", () => {
    expect(server.stdout()).toBe(`client release=client-e2e-1 listening on http://127.0.0.1:${server.port} backend=${backend.address}\n`);
  });

  it("serves /healthz with 200 and the exact JSON", async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
    const body = (await res.json()) as { checkedAt: string };
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(body).toStrictEqual({
      ok: true,
      client: { release: "client-e2e-1" },
      backend: { status: "SERVING", release: "backend-rel-42", schemaVersion: 7, databaseReachable: true },
      checkedAt: body.checkedAt,
    });
    expect(Number.isNaN(Date.parse(body.checkedAt))).toBe(false);
    expect(backend.calls.find((c) => c.method === "GetStatus")!.metadata.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("answers 503 with a reason phrase when the backend stops serving", async () => {
    backend.setHealth("NOT_SERVING");
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(res.status).toBe(503);
      expect(res.statusText).toBe("Service Unavailable");
      expect(((await res.json()) as { backend: { status: string } }).backend.status).toBe("NOT_SERVING");
    } finally {
      backend.setHealth("SERVING");
    }
  });

  it("renders the home page with the backend's report", async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/`);
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain("<title>Deploy ops demo</title>");
    expect(html).toContain("client-e2e-1");
    expect(html).toContain("backend-rel-42");
    expect(html).toContain(">SERVING<");
    // hydration scripts point at hashed assets, served with a long cache
    const asset = /\/assets\/[\w.-]+\.js/.exec(html)?.[0];
    expect(asset).toBeDefined();
    const assetRes = await fetch(`http://127.0.0.1:${server.port}${asset}`);
    expect(assetRes.status).toBe(200);
    expect(assetRes.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it("finishes an in-flight request on SIGTERM, then exits 0", async () => {
    backend.options.delayMs = 800;
    const inflight = fetch(`http://127.0.0.1:${server.port}/healthz`);
    await new Promise((r) => setTimeout(r, 200));
    const signalled = Date.now();
    server.child.kill("SIGTERM");

    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await server.exited).toBe(0);
    // well before the 4 s grace period: idle keep-alive connections are closed, not waited for
    expect(Date.now() - signalled).toBeLessThan(2_500);
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
    expect(server.stdout() + server.stderr()).not.toContain(TOKEN);
  });
});

describe("build/server.mjs startup checks", () => {
  it("refuses HOST=https://x and exits 1 naming HOST and the value", async () => {
    const child: ChildProcess = spawn(process.execPath, [serverFile], {
      cwd: tmpdir(),
      env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", HOST: "https://x" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err += d));
    const code = await new Promise((ok) => child.on("exit", ok));
    expect(code).toBe(1);
    expect(err).toContain('HOST must be a bind address or hostname (e.g. 0.0.0.0, ::, localhost), not a URL; got "https://x"');
  });

  it("reports UNREACHABLE with 503 when nothing listens on BACKEND_GRPC_ADDR", async () => {
    const server = await start({ BACKEND_GRPC_ADDR: `127.0.0.1:${await unusedPort()}` });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      const body = (await res.json()) as { ok: boolean; backend: { status: string; error: string } };
      expect(res.status).toBe(503);
      expect(body.ok).toBe(false);
      expect(body.backend.status).toBe("UNREACHABLE");
      expect(body.backend.error).toMatch(/ECONNREFUSED/);
    } finally {
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
    }
  });
});
