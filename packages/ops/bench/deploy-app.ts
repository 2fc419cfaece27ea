/**
 * A deploy of one app on local, alone (`deploy <app> --json`, under the deploy lock): the time of
 * its deploy actions (copy the build, start it under a supervisor, wait for health, switch the
 * route and stop the previous release, record fingerprints), from the step's own `action:end`
 * events, and the whole command's wall time (node start, lock and history rows included).
 */
import { median } from "./measure.ts";
import type { Workspace } from "./workspace.ts";

export interface DeployResult {
  app: string;
  /** Median ms of the deploy actions, and of each action by its description's first words. */
  actionsMs: number;
  byAction: Map<string, number>;
  wallMs: number;
}

interface Event {
  kind: string;
  index?: number;
  durationMs?: number;
  action?: { kind: string; description: string };
}

/** An action's description without what changes from run to run (release ids, ports, paths), cut to a table cell. */
function actionLabel(description: string): string {
  const label = description
    .replace(/\d{8}-\d{6}-[0-9a-f]{4}/g, "<release>")
    .replace(/127\.0\.0\.1:\d+/g, "<port>")
    .replace(/\/\S+\/(\S+)/g, "…/$1");
  return label.length > 70 ? `${label.slice(0, 69)}…` : label;
}

/** `runs` deploys of `app`; lock and history rows (`db` actions) are not counted as deploy actions. */
export async function deployOneApp(ws: Workspace, app: string, runs: number): Promise<DeployResult> {
  const totals: number[] = [];
  const walls: number[] = [];
  const per = new Map<string, number[]>();
  for (let i = 0; i < runs; i++) {
    const res = await ws.step("deploy", [app, "--json"], {});
    if (res.code !== 0) throw new Error(`bench: deploy ${app} exited ${res.code}:\n${res.out.slice(-3000)}`);
    const events = res.out
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Event);
    let current: Event["action"];
    let total = 0;
    for (const e of events) {
      if (e.kind === "action") current = e.action;
      if (e.kind === "action:end" && current && current.kind !== "db") {
        const name = `${e.index}. ${actionLabel(current.description)}`;
        per.set(name, [...(per.get(name) ?? []), e.durationMs!]);
        total += e.durationMs!;
      }
    }
    totals.push(total);
    walls.push(res.ms);
  }
  return { app, actionsMs: median(totals), byAction: new Map([...per].map(([k, v]) => [k, median(v)])), wallMs: median(walls) };
}
