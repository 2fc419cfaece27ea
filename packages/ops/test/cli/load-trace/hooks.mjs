// Module hooks for test/cli/lazy-imports.test.ts: appends every resolved module URL to the file
// named by the `out` data the register call passes.
import { appendFileSync } from "node:fs";

let out;

export async function initialize(data) {
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(out, `${result.url}\n`);
  return result;
}
