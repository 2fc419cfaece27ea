import { join } from "node:path";

/** Where the local target keeps everything of one environment, under `<stateDir>/local/<environment>/`. */
export interface LocalPaths {
  root: string;
  secretsFile: string;
  ledgerKey: string;
  postgresDir: string;
  postgresState: string;
  postgresLog: string;
  routerDir: string;
  routesFile: string;
  routerState: string;
  routerLog: string;
  appDir(app: string): string;
  appState(app: string): string;
  releaseDir(app: string, releaseId: string): string;
}

export function localPaths(stateDir: string, environment: string): LocalPaths {
  const root = join(stateDir, "local", environment);
  return {
    root,
    secretsFile: join(root, "secrets.env"),
    ledgerKey: join(root, "ledger.key"),
    postgresDir: join(root, "postgres"),
    postgresState: join(root, "postgres", "server.json"),
    postgresLog: join(root, "postgres", "postgres.log"),
    routerDir: join(root, "router"),
    routesFile: join(root, "router", "routes.json"),
    routerState: join(root, "router", "state.json"),
    routerLog: join(root, "router", "router.log"),
    appDir: (app) => join(root, "apps", app),
    appState: (app) => join(root, "apps", app, "state.json"),
    releaseDir: (app, releaseId) => join(root, "apps", app, "releases", releaseId),
  };
}
