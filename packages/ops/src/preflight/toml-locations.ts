/**
 * Where each key of a TOML document is, for messages that name `file:line`. The positions come
 * from toml-eslint-parser's syntax tree (smol-toml, which reads the values, keeps none).
 */
import { parseTOML } from "toml-eslint-parser";

/** A path into the parsed document: table keys and array indexes, e.g. `["services", 0, "ports", 1, "port"]`. */
export type TomlPath = readonly (string | number)[];

/** Lines (1-based) of every table header and key of a TOML document, by path. */
export class TomlLocations {
  private readonly lines = new Map<string, number>();

  /** Reads the positions of `text`; a document that does not parse yields no positions (never throws). */
  constructor(text: string) {
    let ast;
    try {
      ast = parseTOML(text);
    } catch {
      return;
    }
    for (const top of ast.body) {
      for (const node of top.body) {
        if (node.type === "TOMLTable") {
          this.set(node.resolvedKey, node.loc.start.line);
          for (const kv of node.body) this.visitKeyValue(node.resolvedKey, kv);
        } else {
          this.visitKeyValue([], node);
        }
      }
    }
  }

  /** The line of `path`, or of its nearest ancestor that has one; `undefined` when none has. */
  lineOf(path: TomlPath): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.lines.get(key(path.slice(0, n)));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  private set(path: TomlPath, line: number): void {
    if (!this.lines.has(key(path))) this.lines.set(key(path), line);
  }

  private visitKeyValue(base: TomlPath, kv: KeyValueNode): void {
    const path = [...base, ...kv.key.keys.map((k) => ("name" in k ? k.name : k.value))];
    this.set(path, kv.loc.start.line);
    this.visitValue(path, kv.value);
  }

  private visitValue(path: TomlPath, value: ValueNode): void {
    if (value.type === "TOMLInlineTable") for (const kv of value.body) this.visitKeyValue(path, kv);
    else if (value.type === "TOMLArray")
      value.elements.forEach((el, i) => {
        this.set([...path, i], el.loc.start.line);
        this.visitValue([...path, i], el);
      });
  }
}

type Ast = ReturnType<typeof parseTOML>;
type TopNode = Ast["body"][number]["body"][number];
type KeyValueNode = Exclude<TopNode, { type: "TOMLTable" }>;
type ValueNode = KeyValueNode["value"];

const key = (path: TomlPath) => JSON.stringify(path);
