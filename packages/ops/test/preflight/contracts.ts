import type { BuiltPortContract } from "../../src/preflight/port-contract.ts";

/** The port contracts of this repository's two apps as ops.config.ts declares them (repo-infra.test.ts checks they match). */
export const CLIENT: BuiltPortContract = {
  app: "client",
  exposure: "public",
  port: 3000,
  portEnv: "PORT",
  hostEnv: "HOST",
  healthPath: "/healthz",
  stack: "node-remix",
};
export const BACKEND: BuiltPortContract = {
  app: "backend",
  exposure: "internal",
  port: 50051,
  portEnv: "GRPC_PORT",
  hostEnv: "GRPC_HOST",
  healthPath: undefined,
  stack: "go-static",
};
export const CONTRACTS = { client: CLIENT, backend: BACKEND } as const;
