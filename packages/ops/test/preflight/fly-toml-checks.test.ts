import { describe, expect, it } from "vitest";
import { checkInternalFlyToml, checkPublicFlyToml } from "../../src/preflight/fly-toml-checks.ts";
import { goDurationMs } from "../../src/text/go-duration.ts";
import type { AppPortContract } from "../../src/preflight/port-contract.ts";
import { BACKEND, CLIENT } from "./contracts.ts";
import type { CheckResult } from "../../src/preflight/types.ts";

const fails = (r: CheckResult[]) => r.filter((x) => x.status === "fail");
const warns = (r: CheckResult[]) => r.filter((x) => x.status === "warn");
// This repository's two apps, by their contracts in ops.config.ts.
const checkClientFlyToml = (text: string, where: string, c: Partial<AppPortContract> = {}) =>
  checkPublicFlyToml(text, where, { ...CLIENT, ...c });
const checkBackendFlyToml = (text: string, where: string, c: Partial<AppPortContract> = {}) =>
  checkInternalFlyToml(text, where, { ...BACKEND, ...c });
const W = "infra/fly/client.fly.toml";
const B = "infra/fly/backend.fly.toml";

const CLIENT_OK = `
app = "web"
primary_region = "iad"

[env]
  PORT = "8080"
  HOST = "0.0.0.0"

[http_service]
  internal_port = 8080
  force_https = true

  [[http_service.checks]]
    path = "/healthz"
    interval = "10s"
    timeout = "2s"
    grace_period = "5s"
`;

const BACKEND_OK = `
app = "api"

[env]
  GRPC_HOST = "::"
  GRPC_PORT = "50051"

[checks.grpc]
  type = "tcp"
  port = 50051
  interval = "15s"
  timeout = "2s"
  grace_period = "10s"
`;

describe("checkClientFlyToml: C-20", () => {
  it("passes a client whose PORT matches internal_port and binds 0.0.0.0", () => {
    expect(checkClientFlyToml(CLIENT_OK, W)).toEqual([
      { id: "fly.client", status: "pass", message: `${W}: the proxy reaches the client on port 8080`, where: W },
    ]);
  });

  it("names both problems: internal_port 8080 with no PORT, and HOST set to a URL", () => {
    const toml = `
[env]
  HOST = "https://web.example.dev"

[http_service]
  internal_port = 8080

  [[http_service.checks]]
    path = "/healthz"
    interval = "10s"
    timeout = "2s"
`;
    expect(fails(checkClientFlyToml(toml, W))).toEqual([
      {
        id: "fly.client.port",
        status: "fail",
        message:
          "internal_port = 8080 but nothing sets PORT (server defaults to 3000); Fly's proxy would find nothing listening and health checks fail",
        where: `${W} [http_service].internal_port`,
        fix: `set PORT = "8080" in [env] of ${W}, or set internal_port = 3000`,
      },
      {
        id: "fly.client.host",
        status: "fail",
        message: '[env] HOST = "https://web.example.dev" is a URL; HOST is the address the server binds to, so the server cannot start',
        where: `${W} [env].HOST`,
        fix: 'set HOST = "0.0.0.0" (or "::"), or remove it if the client binds 0.0.0.0 by default; put the public URL in another variable',
      },
    ]);
  });

  it("passes internal_port 3000 with PORT unset (the default matches)", () => {
    const toml = CLIENT_OK.replace('  PORT = "8080"\n', "").replace("internal_port = 8080", "internal_port = 3000");
    expect(fails(checkClientFlyToml(toml, W))).toEqual([]);
  });

  it("fails PORT set to a different port, and PORT as an integer is read as a string", () => {
    expect(fails(checkClientFlyToml(CLIENT_OK.replace('PORT = "8080"', 'PORT = "3000"'), W))[0]!.message).toBe(
      `internal_port = 8080 but [env] PORT = "3000"; Fly's proxy would find nothing listening on 8080`,
    );
    expect(fails(checkClientFlyToml(CLIENT_OK.replace('PORT = "8080"', "PORT = 8080"), W))).toEqual([]);
    expect(fails(checkClientFlyToml(CLIENT_OK.replace('PORT = "8080"', 'PORT = "web"'), W))[0]!.message).toContain(
      'PORT = "web" is not a port number',
    );
  });

  it("uses the configured default port", () => {
    const toml = CLIENT_OK.replace('  PORT = "8080"\n', "");
    expect(fails(checkClientFlyToml(toml, W, { port: 8080 }))).toEqual([]);
  });

  it.each([
    ["localhost", "binds to loopback"],
    ["127.0.0.1", "binds to loopback"],
    ["::1", "binds to loopback"],
    ["web.example.dev", "is not a bind-any address"],
    ["http://0.0.0.0:3000", "is a URL"],
  ])("fails HOST = %s", (host, text) => {
    const [r] = fails(checkClientFlyToml(CLIENT_OK.replace('HOST = "0.0.0.0"', `HOST = "${host}"`), W));
    expect(r!.id).toBe("fly.client.host");
    expect(r!.message).toContain(text);
  });

  it.each(["::", "[::]", "0.0.0.0"])("accepts HOST = %s", (host) => {
    expect(fails(checkClientFlyToml(CLIENT_OK.replace('HOST = "0.0.0.0"', `HOST = "${host}"`), W))).toEqual([]);
  });

  it("fails a missing [http_service], a missing internal_port, and a string internal_port", () => {
    expect(fails(checkClientFlyToml('app = "web"\n', W)).map((r) => r.id)).toEqual(["fly.client.http-service"]);
    expect(fails(checkClientFlyToml("[http_service]\nforce_https = true\n", W))[0]!.message).toBe(
      "[http_service] has no internal_port; Fly's proxy would not know where the server listens",
    );
    expect(fails(checkClientFlyToml(CLIENT_OK.replace("internal_port = 8080", 'internal_port = "8080"'), W))[0]!.message).toBe(
      '[http_service] internal_port = "8080" is not a port number (an integer 1..65535)',
    );
  });

  it("warns when no check is on /healthz", () => {
    const toml = CLIENT_OK.replace('path = "/healthz"', 'path = "/"');
    expect(warns(checkClientFlyToml(toml, W)).map((r) => r.id)).toEqual(["fly.client.healthcheck"]);
    expect(warns(checkClientFlyToml(toml, W, { healthPath: "/" }))).toEqual([]);
  });

  it("warns about bare-integer check durations and out-of-range ones, fails malformed ones", () => {
    const bare = CLIENT_OK.replace('interval = "10s"', "interval = 10000");
    expect(warns(checkClientFlyToml(bare, W))).toEqual([
      {
        id: "fly.toml.duration",
        status: "warn",
        message:
          "[[http_service.checks]][0].interval = 10000 is a bare number; here flyctl decodes it as nanoseconds and clamps it to 1s, not 10000ms or 10000s",
        where: `${W} [[http_service.checks]][0].interval`,
        fix: 'write [[http_service.checks]][0].interval as a duration string, e.g. "10s"',
      },
    ]);
    expect(warns(checkClientFlyToml(CLIENT_OK.replace('timeout = "2s"', 'timeout = "500ms"'), W))[0]!.message).toContain(
      "flyctl clamps service-check durations to 1s..1m",
    );
    expect(fails(checkClientFlyToml(CLIENT_OK.replace('timeout = "2s"', 'timeout = "2 seconds"'), W))[0]!.message).toBe(
      '[[http_service.checks]][0].timeout = "2 seconds" is not a duration; flyctl rejects the config',
    );
  });

  it("reads every form of Go's duration syntax flyctl reads, and only those", () => {
    const withInterval = (v: string) => checkClientFlyToml(CLIENT_OK.replace('interval = "10s"', `interval = "${v}"`), W);
    for (const ok of ["15s", "1m", "0.5m", "1m0s", "20000ms"])
      expect([ok, [...fails(withInterval(ok)), ...warns(withInterval(ok))]]).toEqual([ok, []]);
    expect(warns(withInterval("1.5h"))[0]!.message).toBe(
      "[[http_service.checks]][0].interval is 5400s; flyctl clamps service-check durations to 1s..1m",
    );
    expect(warns(withInterval("1500us"))[0]!.message).toBe(
      "[[http_service.checks]][0].interval is 1.5ms; flyctl clamps service-check durations to 1s..1m",
    );
    expect(warns(withInterval("-2s"))[0]!.message).toBe(
      "[[http_service.checks]][0].interval is -2s; flyctl clamps service-check durations to 1s..1m",
    );
    for (const bad of [" 10s", "10", "1d", "10 s"]) expect(fails(withInterval(bad)).map((r) => r.id)).toEqual(["fly.toml.duration"]);
  });

  it("fails a TOML syntax error with line and column", () => {
    const [r] = checkClientFlyToml('app = "web"\n[http_service\ninternal_port = 8080\n', W);
    expect(r).toMatchObject({ id: "fly.toml.parse", status: "fail", where: `${W}:2:14` });
  });

  it("warns about [env] names starting with FLY_", () => {
    expect(warns(checkClientFlyToml(CLIENT_OK.replace("[env]", '[env]\n  FLY_REGION = "x"'), W)).map((r) => r.where)).toEqual([
      `${W} [env].FLY_REGION`,
    ]);
  });
});

describe("checkBackendFlyToml: C-22", () => {
  it("passes an internal backend on :: with a tcp check on the gRPC port", () => {
    expect(checkBackendFlyToml(BACKEND_OK, B)).toEqual([
      { id: "fly.backend", status: "pass", message: `${B}: internal only, listening on [::]:50051`, where: B },
    ]);
  });

  it("refuses an [http_service]", () => {
    const toml = `${BACKEND_OK}\n[http_service]\n  internal_port = 50051\n`;
    expect(fails(checkBackendFlyToml(toml, B))).toEqual([
      {
        id: "fly.backend.public",
        status: "fail",
        message: `${B} has [http_service]; the backend must be internal only (reached over <app>.internal), and a service gets public IPs on deploy`,
        where: `${B} [http_service]`,
        fix: `remove [http_service] from ${B} and deploy with --no-public-ips; release any public IPs it already has (fly ips list, fly ips release)`,
      },
    ]);
  });

  it("refuses [[services]] too", () => {
    const toml = `${BACKEND_OK}\n[[services]]\n  protocol = "tcp"\n  internal_port = 50051\n`;
    expect(fails(checkBackendFlyToml(toml, B))[0]!.message).toContain("has [[services]]");
  });

  it.each([
    ["0.0.0.0", "listens on IPv4 only"],
    ["[::]", "has brackets"],
    ["127.0.0.1", 'is not "::"'],
    ["fly-local-6pn", 'is not "::"'],
  ])("fails GRPC_HOST = %s", (host, text) => {
    const [r] = fails(checkBackendFlyToml(BACKEND_OK.replace('GRPC_HOST = "::"', `GRPC_HOST = "${host}"`), B));
    expect(r).toMatchObject({ id: "fly.backend.host", fix: 'set GRPC_HOST = "::" in [env] (or remove it if the backend defaults to ::)' });
    expect(r!.message).toContain(text);
  });

  it("accepts GRPC_HOST unset (the backend defaults to ::)", () => {
    expect(fails(checkBackendFlyToml(BACKEND_OK.replace('  GRPC_HOST = "::"\n', ""), B))).toEqual([]);
  });

  it("warns when no tcp check is on the gRPC port", () => {
    const none = BACKEND_OK.replace(/\[checks\.grpc\][\s\S]*$/, "");
    expect(warns(checkBackendFlyToml(none, B)).map((r) => r.id)).toEqual(["fly.backend.healthcheck"]);
    const other = BACKEND_OK.replace("port = 50051", "port = 8080");
    expect(warns(checkBackendFlyToml(other, B))[0]!.message).toBe("no tcp check on the port 50051 ([checks.grpc] port 8080)");
    const customPort = BACKEND_OK.replace('GRPC_PORT = "50051"', 'GRPC_PORT = "6000"').replace("port = 50051", "port = 6000");
    expect(warns(checkBackendFlyToml(customPort, B))).toEqual([]);
    expect(
      warns(
        checkBackendFlyToml(BACKEND_OK.replace('  GRPC_PORT = "50051"\n', "").replace("port = 50051", "port = 7000"), B, { port: 7000 }),
      ),
    ).toEqual([]);
  });

  it("fails [checks] interval under 2s, timeout over 60s and a missing type; bare integers are ms there", () => {
    const fast = BACKEND_OK.replace('interval = "15s"', 'interval = "1s"').replace('timeout = "2s"', 'timeout = "2m"');
    expect(fails(checkBackendFlyToml(fast, B)).map((r) => r.message)).toEqual([
      "[checks.grpc].interval is 1s; flyctl rejects top-level check intervals under 2s",
      "[checks.grpc].timeout is 120s; flyctl rejects top-level check timeouts over 60s",
    ]);
    const bareMs = BACKEND_OK.replace('interval = "15s"', "interval = 1500");
    expect(fails(checkBackendFlyToml(bareMs, B)).map((r) => r.message)).toEqual([
      "[checks.grpc].interval is 1500ms; flyctl rejects top-level check intervals under 2s",
    ]);
    expect(fails(checkBackendFlyToml(BACKEND_OK.replace('interval = "15s"', "interval = 15000"), B))).toEqual([]);
    const untyped = BACKEND_OK.replace('  type = "tcp"\n', "");
    expect(fails(checkBackendFlyToml(untyped, B))[0]!.message).toBe(
      `[checks.grpc].type is missing; flyctl says "Missing or invalid check type, must be 'http' or 'tcp'"`,
    );
  });

  it("fails a bad GRPC_PORT", () => {
    expect(fails(checkBackendFlyToml(BACKEND_OK.replace('GRPC_PORT = "50051"', 'GRPC_PORT = "70000"'), B)).map((r) => r.id)).toEqual([
      "fly.backend.port",
    ]);
  });
});

describe("fly.toml durations are read as Go reads them (goDurationMs; Go itself is the oracle in test/text/go-duration.test.ts)", () => {
  it.each([
    ["10s", 10_000],
    ["1m30s", 90_000],
    ["500ms", 500],
    ["1.5s", 1500],
    ["2h", 7_200_000],
    ["0", 0],
    ["-1s", -1000],
  ])("%s → %d ms", (text, ms) => expect(goDurationMs(text)).toBe(ms));
  it.each(["", "10", "s", "10 s", "ten s", " 10s"])("rejects %j", (text) => expect(goDurationMs(text)).toBeUndefined());
});
