import { describe, expect, it } from "vitest";
import { LineBuffer, logLineTime, selectLogLines, splitLines } from "../../src/logs/lines.ts";

describe("logLineTime: the timestamp a log line starts with", () => {
  it("reads the stamps the local processes, the backend and Fly write", () => {
    expect(logLineTime("[supervisor 2026-12-04T17:15:00.123Z] started node")).toBe(Date.parse("2026-12-04T17:15:00.123Z"));
    expect(logLineTime("[router 2026-12-04T17:15:01.000Z] listening")).toBe(Date.parse("2026-12-04T17:15:01Z"));
    expect(logLineTime("2026-12-04 17:15:02.500 UTC [4242] LOG:  database system is ready")).toBe(Date.parse("2026-12-04T17:15:02.5Z"));
    expect(logLineTime('time=2026-12-04T18:15:03.000+01:00 level=INFO msg="backend starting"')).toBe(Date.parse("2026-12-04T17:15:03Z"));
    expect(logLineTime("2026-12-04T17:15:04Z app[e286] iad [info] GET /healthz")).toBe(Date.parse("2026-12-04T17:15:04Z"));
    expect(logLineTime("2026-12-04 17:15:05.000 +0200 [1] LOG: x")).toBe(Date.parse("2026-12-04T15:15:05Z"));
  });

  it("has none for lines without a stamp near their start", () => {
    expect(logLineTime("client release=r1 listening on http://127.0.0.1:3000")).toBeUndefined();
    expect(logLineTime(`${"x".repeat(60)} 2026-12-04T17:15:00Z`)).toBeUndefined();
    expect(logLineTime("")).toBeUndefined();
  });
});

const log = [
  "[supervisor 2026-12-04T17:00:00.000Z] started node build/server.mjs (pid 1)",
  "client release=r1 listening",
  "[supervisor 2026-12-04T17:10:00.000Z] exited (code 1, signal null); restarting in 500 ms",
  "Error: boom",
  "    at main (server.mjs:1:1)",
  "[supervisor 2026-12-04T17:20:00.000Z] started node build/server.mjs (pid 2)",
  "client release=r1 listening",
];

describe("selectLogLines: -n, --since, --grep", () => {
  it("keeps the last n lines, oldest first", () => {
    expect(selectLogLines(log, { lines: 2 })).toEqual({ lines: log.slice(5), undated: false });
    expect(selectLogLines(log, { lines: 100 }).lines).toEqual(log);
    expect(selectLogLines(log, { lines: 0 }).lines).toEqual([]);
  });

  it("--since keeps lines from that time on; unstamped lines go with the stamped line before them", () => {
    const since = Date.parse("2026-12-04T17:05:00Z");
    expect(selectLogLines(log, { lines: 100, sinceEpochMs: since }).lines).toEqual(log.slice(2));
    expect(selectLogLines(log, { lines: 100, sinceEpochMs: Date.parse("2026-12-04T17:10:00Z") }).lines).toEqual(log.slice(2));
    expect(selectLogLines(log, { lines: 100, sinceEpochMs: Date.parse("2026-12-04T18:00:00Z") })).toEqual({ lines: [], undated: false });
  });

  it("drops lines before the first stamp under --since (their time is unknown)", () => {
    const lines = ["no stamp yet", ...log];
    expect(selectLogLines(lines, { lines: 100, sinceEpochMs: 0 }).lines).toEqual(log);
  });

  it("--grep filters before -n counts", () => {
    expect(selectLogLines(log, { lines: 1, grep: /listening/ }).lines).toEqual(["client release=r1 listening"]);
    expect(selectLogLines(log, { lines: 10, grep: /restarting|Error/ }).lines).toEqual([log[2], log[3]]);
    expect(selectLogLines(log, { lines: 10, grep: /^ {4}at/, sinceEpochMs: Date.parse("2026-12-04T17:05:00Z") }).lines).toEqual([log[4]]);
  });

  it("a log without any timestamp cannot be cut by --since: it is selected without it and marked undated", () => {
    const plain = ["a", "b", "c"];
    expect(selectLogLines(plain, { lines: 2, sinceEpochMs: Date.now() })).toEqual({ lines: ["b", "c"], undated: true });
    expect(selectLogLines([], { lines: 2, sinceEpochMs: Date.now() })).toEqual({ lines: [], undated: false });
  });
});

describe("splitLines and LineBuffer", () => {
  it("splits text without the empty line after the last newline", () => {
    expect(splitLines("a\r\nb\n")).toEqual(["a", "b"]);
    expect(splitLines("")).toEqual([]);
  });

  it("returns only whole lines and keeps the rest for the next chunk", () => {
    const b = new LineBuffer();
    expect(b.push("one\ntw")).toEqual(["one"]);
    expect(b.push("o")).toEqual([]);
    expect(b.push("\r\nthree\n")).toEqual(["two", "three"]);
    expect(b.push("tail")).toEqual([]);
    expect(b.flush()).toEqual(["tail"]);
    expect(b.flush()).toEqual([]);
  });
});
