// Mermaid's own parser as the oracle for the report's gantt chart. Mermaid's sanitizer (DOMPurify)
// needs a DOM at import time, so happy-dom supplies one; nothing is drawn, only parsed.
import { Window } from "happy-dom";

export interface ParsedGanttTask {
  /** The name as Mermaid will draw it (entity codes turned back into characters). */
  name: string;
  section: string;
  startMs: number;
  endMs: number;
  tags: string[];
}

let loaded: Promise<typeof import("mermaid").default> | undefined;

/**
 * Imports Mermaid once per test file (several seconds on a loaded machine): call it in a
 * `beforeAll` with a generous timeout so no test pays for it.
 */
export function loadMermaid() {
  loaded ??= (async () => {
    const window = new Window();
    Object.assign(globalThis, { window, document: window.document });
    return (await import("mermaid")).default;
  })();
  return loaded;
}

/**
 * Mermaid's placeholders for entity codes (`#58;` → `ﬂ°°58¶ß`), as the browser finally shows them.
 * Mermaid encodes them before parsing and decodes them into the SVG as `&#58;`.
 */
const shown = (text: string) =>
  text.replace(/\uFB02\u00B0\u00B0(\d+)\u00B6\u00DF/g, (_, code: string) => String.fromCodePoint(Number(code))).trimEnd();

/**
 * Parses `text` with Mermaid (a syntax error throws) and reads the tasks back from its gantt
 * database: what the chart will show, as Mermaid understood it.
 */
export async function parseGantt(text: string): Promise<{ title: string; tasks: ParsedGanttTask[] }> {
  const m = await loadMermaid();
  await m.parse(text);
  const diagram = await m.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db as unknown as {
    getTasks(): { task: string; section: string; startTime: Date; endTime: Date; classes: string[]; done?: boolean; crit?: boolean }[];
    getDiagramTitle(): string;
  };
  return {
    title: shown(db.getDiagramTitle()),
    tasks: db.getTasks().map((t) => ({
      name: shown(t.task),
      section: shown(t.section),
      startMs: t.startTime.getTime(),
      endMs: t.endTime.getTime(),
      tags: [...(t.done ? ["done"] : []), ...(t.crit ? ["crit"] : [])],
    })),
  };
}
