import { describe, expect, it } from "vitest";
import { BACKEND_OK, CLIENT_OK, D, check, fails, warns, writeTemp, useBuildContext } from "./dockerfile-fixtures.ts";

useBuildContext();

describe("checkDockerfile: ports against the app's fly.toml", () => {
  const clientFly = (env: string) => writeTemp("client.fly.toml", `app = "web"\n[env]\n${env}\n[http_service]\n  internal_port = 3000\n`);
  const backendFly = (env: string, port = 50051) =>
    writeTemp(
      "backend.fly.toml",
      `app = "api"\n[env]\n${env}\n[checks.grpc]\n  type = "tcp"\n  port = ${port}\n  interval = "15s"\n  timeout = "2s"\n`,
    );

  it("client: the image's PORT must be the fly.toml internal_port when fly.toml does not set PORT", () => {
    const text = CLIENT_OK.replace("PORT=3000", "PORT=8080");
    const r = check(text, "client", { flyTomlPath: clientFly("") });
    expect(fails(r)).toEqual([
      expect.objectContaining({ id: "dockerfile.client.port", where: `${D}:12`, message: expect.stringContaining("internal_port = 3000") }),
    ]);
    expect(warns(r)).toEqual([
      expect.objectContaining({
        id: "dockerfile.client.port",
        message: "EXPOSE 3000 but the client listens on 8080: the image documents the wrong port",
      }),
    ]);
  });

  it("client: a PORT in fly.toml [env] wins over the image", () => {
    const text = CLIENT_OK.replace("PORT=3000", "PORT=8080").replace("EXPOSE 3000", "EXPOSE 3000 8080");
    expect(fails(check(text, "client", { flyTomlPath: clientFly('PORT = "3000"') }))).toEqual([]);
  });

  it("client: GRPC_PROTO_ROOT from fly.toml [env] must be /app/proto too", () => {
    const r = fails(check(CLIENT_OK, "client", { flyTomlPath: clientFly('GRPC_PROTO_ROOT = "/proto"') }));
    expect(r).toEqual([
      expect.objectContaining({
        id: "dockerfile.client.proto-root",
        where: expect.stringMatching(/client\.fly\.toml \[env\]\.GRPC_PROTO_ROOT$/),
      }),
    ]);
  });

  it("backend: the gRPC port must be the one the fly.toml tcp check watches", () => {
    const r = fails(check(BACKEND_OK.replace("GRPC_PORT=50051", "GRPC_PORT=9000"), "backend", { flyTomlPath: backendFly("") }));
    expect(r).toEqual([expect.objectContaining({ id: "dockerfile.backend.port", where: `${D}:14` })]);
  });

  it("backend: fly.toml [env] GRPC_PORT/GRPC_HOST win over the image", () => {
    const text = BACKEND_OK.replace("GRPC_HOST=::", "GRPC_HOST=0.0.0.0").replace("GRPC_PORT=50051", "GRPC_PORT=9000");
    const r = check(text, "backend", { flyTomlPath: backendFly('GRPC_HOST = "::"\nGRPC_PORT = "50051"') });
    expect(fails(r)).toEqual([]);
  });

  it("backend: EXPOSE of another port is a warning", () => {
    const r = check(BACKEND_OK.replace("EXPOSE 50051", "EXPOSE 8080"), "backend");
    expect(fails(r)).toEqual([]);
    expect(warns(r)).toEqual([expect.objectContaining({ id: "dockerfile.backend.port", where: `${D}:15` })]);
  });

  it("an unreadable fly.toml is a warning and the rest still runs", () => {
    const r = check(CLIENT_OK, "client", { flyTomlPath: writeTemp("bad.fly.toml", "app = \n") });
    expect(fails(r)).toEqual([]);
    expect(warns(r)).toEqual([expect.objectContaining({ id: "dockerfile.fly-toml" })]);
  });
});
