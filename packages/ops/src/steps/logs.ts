import { defineOps } from "../cli/run-ops.ts";
import { parseDurationMs } from "../cli/duration.ts";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../text/did-you-mean.ts";

/** `-n` when not given. */
export const DEFAULT_LOG_LINES = 100;

/**
 * `pnpm ops:logs --app <name>`: the last lines of an app's log (local: its current release's log,
 * or the router's or Postgres'; fly: `fly logs`), filtered by `--since` and `--grep`; `--follow`
 * goes on printing new lines until Ctrl-C, which ends it cleanly (exit 0). Every line passes
 * through the redactor like all output.
 */
export const logsCommand = () =>
  defineOps({
    name: "logs",
    description: "print the recent log lines of an app (or, locally, of the router or Postgres); --follow keeps printing new ones",
    usage: [
      "pnpm ops:logs --app <name> [-n 100] [--since 10m] [--grep <regex>] [--follow]",
      "--app <name>       an app of ops.config.ts; locally also router or postgres",
      `-n, --lines <n>    at most this many lines, the newest (default ${DEFAULT_LOG_LINES})`,
      "--since <d>        only lines written in the last <d> (30s, 10m, 1h)",
      "--grep <regex>     only lines this JavaScript regular expression matches",
      "-f, --follow       keep printing new lines until Ctrl-C",
    ],
    options: {
      app: { type: "string" },
      lines: { type: "string", short: "n" },
      since: { type: "string" },
      grep: { type: "string" },
      follow: { type: "boolean", short: "f", default: false },
    },
    endsOnInterrupt: true,
    skipWhen: ({ values, appsOff }) => (typeof values.app === "string" ? appsOff.get(values.app) : undefined),
    async run(ctx, { values }) {
      const sources = ctx.target.logSources();
      const app = values.app as string | undefined;
      if (!app) throw new UsageError("which log? --app is missing", { fix: `Pass --app with one of: ${sources.join(", ")}.` });
      const notHere = ctx.target.notRunHere?.(app);
      if (notHere)
        throw new UsageError(`${notHere}, so it has no log here`, {
          where: "--app",
          fix: `Read it where it runs: OPS_TARGET=fly pnpm ops:logs --app ${app}.`,
        });
      if (!sources.includes(app)) {
        throw new UsageError(`unknown app "${app}" for target ${ctx.target.name}${didYouMean(app, sources)}`, {
          where: "--app",
          fix: `Use one of: ${sources.join(", ")}.`,
        });
      }
      const linesText = (values.lines as string | undefined) ?? String(DEFAULT_LOG_LINES);
      if (!/^\d+$/.test(linesText))
        throw new UsageError(`-n "${linesText}" is not a number of lines`, { where: "-n", fix: "Pass a whole number, e.g. -n 50." });
      let grep: RegExp | undefined;
      if (typeof values.grep === "string") {
        try {
          grep = new RegExp(values.grep);
        } catch (err) {
          throw new UsageError(`--grep "${values.grep}" is not a regular expression: ${(err as Error).message}`, {
            where: "--grep",
            fix: "Escape special characters, e.g. --grep 'GET /healthz\\?'.",
          });
        }
      }
      const sinceMs = typeof values.since === "string" ? parseDurationMs(values.since, "--since") : undefined;
      const stop = new AbortController();
      const unregister = ctx.onInterrupt(async () => stop.abort());
      let count = 0;
      try {
        await ctx.target.logs(
          {
            source: app,
            lines: Number(linesText),
            ...(sinceMs !== undefined ? { sinceEpochMs: Date.now() - sinceMs } : {}),
            ...(grep ? { grep } : {}),
            follow: Boolean(values.follow),
            signal: stop.signal,
          },
          (line) => {
            count++;
            ctx.reporter.emit({ kind: "log", source: app, line });
          },
        );
      } finally {
        unregister();
      }
      ctx.reporter.emit({ kind: "result", step: "logs", data: { source: app, lines: count, stopped: stop.signal.aborted } });
    },
  });
