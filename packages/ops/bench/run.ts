/**
 * `pnpm bench`: what a deploy costs on this machine. On a fresh copy of the working tree (bench
 * workspace) it measures the start of every step against `node -e 0`, warm and one-line-change
 * runs of `pnpm turbo run production-deploy` with each task's time, preflight and
 * `migrate --dry-run` at 2 to 2,000 migrations, the peak memory of each step and of the helpers
 * left running, and a deploy of one app; then the in-process hot paths. Prints markdown: the
 * targets table first. docs/benchmarks.md keeps the last results. Timings never go into tests.
 *
 *   pnpm bench [--runs N (pipelines, deploys; default 5)] [--pairs N (start pairs; default 10)] [--quick]
 *              [--compare <git ref> (also run the warm pipeline of that commit, alternating with this tree's)]
 */
import { cpus, loadavg, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { deployOneApp } from "./deploy-app.ts";
import { hotPathTable } from "./hot-paths.ts";
import { mb, median, ratio, seconds, table } from "./measure.ts";
import { helperMemory, stepPeakRss } from "./memory.ts";
import { migrationScaling } from "./migrations.ts";
import { CLIENT_FILE, oneLineClientChange, type PipelineRun, pipelineRun } from "./pipeline.ts";
import { stepStarts } from "./step-start.ts";
import { createWorkspace } from "./workspace.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string" },
    pairs: { type: "string" },
    quick: { type: "boolean", default: false },
    compare: { type: "string" },
  },
});
const runs = Number(values.runs ?? (values.quick ? 1 : 5));
const pairCount = Number(values.pairs ?? (values.quick ? 3 : 10));
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");

const startedAt = new Date();
const loadAtStart = load();
const ws = await createWorkspace(log);
const out: string[] = [];
try {
  log("first deploy of the copy (builds, initdb; not counted)");
  const cold = await pipelineRun(ws);

  log(`step starts (${pairCount} pairs each)`);
  const starts = await stepStarts(ws, pairCount);

  const warm: PipelineRun[] = [];
  const before: PipelineRun[] = [];
  if (values.compare) {
    const other = await createWorkspace(log, values.compare);
    try {
      log(`first deploy of ${values.compare} (not counted)`);
      await pipelineRun(other);
      log(`warm pipeline ×${runs}, alternating with ${values.compare}'s`);
      for (let i = 0; i < runs; i++) {
        warm.push(await pipelineRun(ws));
        before.push(await pipelineRun(other));
      }
    } finally {
      await other.close();
    }
  } else {
    log(`warm pipeline ×${runs}`);
    for (let i = 0; i < runs; i++) warm.push(await pipelineRun(ws));
  }

  log(`one-line client change + pipeline ×${runs}`);
  const changed: PipelineRun[] = [];
  for (let i = 0; i < runs; i++) {
    oneLineClientChange(ws, i);
    changed.push(await pipelineRun(ws));
  }

  log(`deploy of one app ×${runs}`);
  const deploys = [await deployOneApp(ws, "backend", runs), await deployOneApp(ws, "client", runs)];

  const sizes = [2, 20, 200, 2000];
  log(`preflight and migrate --dry-run at ${sizes.join(", ")} migrations (×${runs})`);
  const migrations = await migrationScaling(ws, sizes, runs);

  log("peak RSS of each step (one more deploy, step by step)");
  const stepRss = await stepPeakRss(ws);
  const helpers = helperMemory(ws);

  log("hot paths");
  const hot = await hotPathTable(values.quick ? 0.1 : 1);

  // ---- report ----
  const [status, viaPnpm] = [starts[0]!, starts[1]!];
  const warmWall = median(warm.map((r) => r.wallMs));
  const changedWall = median(changed.map((r) => r.wallMs));
  const mig2 = migrations.find((m) => m.files === 2)!;
  const mig2000 = migrations.find((m) => m.files === 2000)!;
  const migRatio = mig2000.migrateDryRunMs / mig2.migrateDryRunMs;
  const migCpuRatio =
    mig2000.migrateDryRunCpuMs && mig2.migrateDryRunCpuMs ? mig2000.migrateDryRunCpuMs / mig2.migrateDryRunCpuMs : undefined;
  const helperRss = helpers.reduce((s, h) => s + h.rssKb, 0);
  const helperPss = helpers.reduce((s, h) => s + h.pssKb, 0);
  const cpuNote = (rs: PipelineRun[]) => {
    const got = rs.map((r) => r.cpuMs).filter((ms) => ms !== undefined);
    return got.length ? ` (CPU ${seconds(median(got))})` : "";
  };
  const verdict = (ok: boolean) => (ok ? "met" : "**not met**");
  const cpu = cpus();

  out.push(
    `Machine: ${cpu[0]?.model ?? "?"}, ${cpu.length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}, ${process.platform}/${process.arch}`,
    `Date: ${startedAt.toISOString()}; load average (1/5/15 min) at start ${loadAtStart}, at end ${load()}`,
    `Medians of ${runs} runs per pipeline, deploy and migrations figure; step start: median of ${pairCount} per-pair ratios.`,
    "",
    "### Targets",
    "",
    ...table(
      ["metric", "target", "measured", ""],
      [
        ...[status, viaPnpm].map((s) => [
          `one step's start (\`${s === status ? "node packages/ops/prebuild/run.mjs status" : "pnpm ops:status"}\`, local, nothing running), ratio to \`node -e 0\``,
          "≤ 3×",
          `${ratio(s.ratio)} (${seconds(s.ms)} vs ${seconds(s.nodeMs)})`,
          verdict(s.ratio <= 3),
        ]),
        ["warm pipeline, no change, wall", "≤ 3.0 s", `${seconds(warmWall)}${cpuNote(warm)}`, verdict(warmWall <= 3000)],
        [
          "pipeline after a one-line client change, wall (build included)",
          "≤ 5.0 s",
          `${seconds(changedWall)}${cpuNote(changed)}`,
          verdict(changedWall <= 5000),
        ],
        [
          "`migrate --dry-run` with 2,000 files vs 2 files",
          "≤ 1.2×",
          `${ratio(migRatio)} (${seconds(mig2000.migrateDryRunMs)} vs ${seconds(mig2.migrateDryRunMs)})${
            migCpuRatio
              ? `; CPU ${ratio(migCpuRatio)} (${seconds(mig2000.migrateDryRunCpuMs!)} vs ${seconds(mig2.migrateDryRunCpuMs!)})`
              : ""
          }`,
          verdict(migRatio <= 1.2),
        ],
        [
          "resident memory of router + supervisors + Postgres wrapper",
          "≤ 120 MB",
          `RSS ${mb(helperRss)} (PSS ${mb(helperPss)}), ${helpers.length} processes`,
          `RSS ${verdict(helperRss <= 120 * 1024)}, PSS ${verdict(helperPss <= 120 * 1024)}`,
        ],
        ...deploys.map((d) => [
          `deploy of one app on local (copy, start, healthy, switch, stop old): ${d.app}`,
          "≤ 0.3 s",
          `${seconds(d.actionsMs)} (whole command ${seconds(d.wallMs)})`,
          verdict(d.actionsMs <= 300),
        ]),
      ],
    ),
    "",
    "### Step start (ratio to `node -e 0`)",
    "",
    ...table(
      ["command", "wall", "`node -e 0`", "ratio"],
      starts.map((s) => [s.command, seconds(s.ms), seconds(s.nodeMs), ratio(s.ratio)]),
    ),
    "",
    `### \`pnpm turbo run production-deploy\` (turbo's per-task times; one-line change: a comment appended to ${CLIENT_FILE})`,
    "",
    ...(() => {
      const ids = [...new Set([...warm, ...changed].flatMap((r) => [...r.tasks.keys()]))];
      const order = (id: string) => median(warm.map((r) => r.tasks.get(id)?.ms ?? 0));
      const cell = (rs: PipelineRun[], id: string) => {
        const got = rs.map((r) => r.tasks.get(id)).filter((t) => t !== undefined);
        if (got.length === 0) return "-";
        const hits = got.filter((t) => t.cache === "HIT").length;
        return `${seconds(median(got.map((t) => t.ms)))}${hits === got.length ? " (cache hit)" : hits > 0 ? ` (${hits}/${got.length} hits)` : ""}`;
      };
      const cpu = (rs: PipelineRun[]) => {
        const got = rs.map((r) => r.cpuMs).filter((ms) => ms !== undefined);
        return got.length ? seconds(median(got)) : "-";
      };
      const own = (id: string) => {
        const got = warm.map((r) => r.steps.get(id)).filter((ms) => ms !== undefined);
        return got.length ? seconds(median(got)) : "-";
      };
      return table(
        ["task", "first run (cold)", "warm, no change", "warm: the step's own work", "after a one-line client change"],
        [
          ...ids.sort((a, b) => order(b) - order(a)).map((id) => [id, cell([cold], id), cell(warm, id), own(id), cell(changed, id)]),
          ["**whole command (wall)**", seconds(cold.wallMs), seconds(warmWall), "", seconds(changedWall)],
          ["whole command (CPU, user + system)", cpu([cold]), cpu(warm), "", cpu(changed)],
        ],
      );
    })(),
    ...(before.length
      ? [
          "",
          `### Warm pipeline: this tree vs \`${values.compare}\` (runs alternating; ratio per pair, then the median)`,
          "",
          ...table(
            ["", "this tree", `\`${values.compare}\``, "ratio"],
            [
              [
                "wall",
                seconds(warmWall),
                seconds(median(before.map((r) => r.wallMs))),
                ratio(median(warm.map((r, i) => r.wallMs / before[i]!.wallMs))),
              ],
              ...(warm.every((r) => r.cpuMs !== undefined) && before.every((r) => r.cpuMs !== undefined)
                ? [
                    [
                      "CPU (user + system)",
                      seconds(median(warm.map((r) => r.cpuMs!))),
                      seconds(median(before.map((r) => r.cpuMs!))),
                      ratio(median(warm.map((r, i) => r.cpuMs! / before[i]!.cpuMs!))),
                    ],
                  ]
                : []),
            ],
          ),
        ]
      : []),
    "",
    "### Preflight and `migrate --dry-run` by number of migrations",
    "",
    ...table(
      ["migrations", "preflight", "migrate --dry-run", "migrate vs 2 files", "migrate --dry-run CPU", "CPU vs 2 files"],
      migrations.map((m) => [
        m.files,
        seconds(m.preflightMs),
        seconds(m.migrateDryRunMs),
        ratio(m.migrateDryRunMs / mig2.migrateDryRunMs),
        m.migrateDryRunCpuMs === undefined ? "-" : seconds(m.migrateDryRunCpuMs),
        m.migrateDryRunCpuMs === undefined || mig2.migrateDryRunCpuMs === undefined
          ? "-"
          : ratio(m.migrateDryRunCpuMs / mig2.migrateDryRunCpuMs),
      ]),
    ),
    "",
    "### Peak resident memory of each step (one deploy run step by step)",
    "",
    ...table(
      ["step", "peak RSS"],
      stepRss.map((s) => [s.step, mb(s.peakKb)]),
    ),
    "",
    "### Long-running helpers after the runs",
    "",
    ...table(
      ["helper", "RSS", "peak RSS", "PSS", "command"],
      [
        ...helpers.map((h) => [h.helper, mb(h.rssKb), mb(h.peakKb), mb(h.pssKb), `\`${h.command}\``]),
        ["**total**", mb(helperRss), mb(helpers.reduce((s, h) => s + h.peakKb, 0)), mb(helperPss), ""],
      ],
    ),
    "",
    "### Deploy of one app on local (deploy actions from the step's own events)",
    "",
    ...deploys.flatMap((d) => [
      ...table(
        ["action", `${d.app}: median`],
        [
          ...[...d.byAction].map(([a, ms]) => [a, seconds(ms)]),
          ["**deploy actions**", seconds(d.actionsMs)],
          ["whole command", seconds(d.wallMs)],
        ],
      ),
      "",
    ]),
    "### Hot paths (in process)",
    "",
    ...hot,
  );
} finally {
  log("stopping the copy's environment");
  await ws.close();
}
console.log(out.join("\n"));
