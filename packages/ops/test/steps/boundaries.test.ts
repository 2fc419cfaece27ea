// The rules that keep steps target-agnostic, checked on the source: no step names a target, no step
// imports another, and only the CLI boundary listens for interrupts (steps reach cleanup through
// `ctx.onInterrupt`). A new target is then a folder implementing `Target` plus one factory case.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const src = join(import.meta.dirname, "../../src");
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .map((text, i) => ({ at: `${relative(src, file)}:${i + 1}`, text }));

describe("steps stay target-agnostic", () => {
  const steps = files(join(src, "steps")).flatMap(lines);

  it('no step names "fly" or "local"', () => {
    expect(steps.filter((l) => /"fly"|"local"/.test(l.text)).map((l) => l.at)).toEqual([]);
  });

  it("no step imports another step", () => {
    expect(steps.filter((l) => /from "\.\/|from "\.\.\/steps\//.test(l.text)).map((l) => l.at)).toEqual([]);
  });

  it("only the target factory picks a target implementation", () => {
    const picks = files(src)
      .filter((f) => !/^(fly|local|target)\//.test(relative(src, f)))
      .flatMap(lines)
      .filter((l) => /import\(?["'][^"']*\/(fly|local)\/target\.ts["']/.test(l.text));
    expect(picks.map((l) => l.at)).toEqual([]);
    expect(readFileSync(join(src, "target/factory.ts"), "utf8")).toMatch(/case "local"[\s\S]*case "fly"/);
  });

  it("only the CLI boundary listens for SIGINT/SIGTERM (besides the entry files of detached processes, `*-main.ts`)", () => {
    const listeners = files(src)
      .filter((f) => !f.endsWith("-main.ts"))
      .flatMap(lines)
      .filter((l) => /process\.on\("SIG(INT|TERM)"/.test(l.text))
      .map((l) => l.at.split(":")[0]);
    expect([...new Set(listeners)]).toEqual(["cli/run-ops.ts"]);
  });
});
