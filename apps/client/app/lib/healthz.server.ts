// The /healthz body. Its shape is a contract: the deploy smoke checks parse it.
import type { BackendReport, BackendStatus } from "./backend.server";

export interface HealthzBody {
  ok: boolean;
  client: { release: string };
  backend: {
    status: BackendStatus;
    release: string | null;
    schemaVersion: number | null;
    databaseReachable: boolean | null;
    error?: string;
  };
  checkedAt: string;
}

export function healthzBody(clientRelease: string, report: BackendReport): HealthzBody {
  return {
    ok: report.status === "SERVING",
    client: { release: clientRelease },
    backend: {
      status: report.status,
      release: report.release,
      schemaVersion: report.schemaVersion,
      databaseReachable: report.databaseReachable,
      ...(report.error ? { error: report.error } : {}),
    },
    checkedAt: report.checkedAt,
  };
}
