/**
 * Before/after pictures for "a dry run changes nothing": every schema, table and row of a database
 * (row count and a hash of the rows, read with plain SQL), and every file under a folder (path →
 * sha256 of its bytes).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import pg from "pg";

export async function databaseSnapshot(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const out: Record<string, string> = {};
    const schemas = await client.query(
      "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema' ORDER BY 1",
    );
    for (const s of schemas.rows) out[`schema ${s.nspname}`] = "present";
    const tables = await client.query(
      "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2",
    );
    for (const t of tables.rows) {
      const name = `${client.escapeIdentifier(t.schemaname)}.${client.escapeIdentifier(t.tablename)}`;
      const rows = await client.query(
        `SELECT count(*)::int AS n, coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS h FROM ${name} x`,
      );
      out[`table ${t.schemaname}.${t.tablename}`] = `${rows.rows[0].n} rows ${rows.rows[0].h}`;
    }
    return out;
  } finally {
    await client.end();
  }
}

/** `keep(relativePath)` leaves out files that are not ours (a stand-in's own state). */
export function folderSnapshot(dir: string, keep: (relativePath: string) => boolean = () => true): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st || !keep(relative(dir, p))) continue;
      if (st.isDirectory()) {
        out[`${relative(dir, p)}/`] = "dir";
        walk(p);
      } else if (st.isFile()) out[relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/**
 * For {@link folderSnapshot} of a state folder while releases run: leaves out each release's
 * `release.log`, which the running app itself appends to (a database probe's transition, a
 * shutdown line), so a comparison sees only what the tool writes.
 */
export const withoutAppOutput = (relativePath: string): boolean => !/(^|\/)apps\/[^/]+\/releases\/[^/]+\/release\.log$/.test(relativePath);
