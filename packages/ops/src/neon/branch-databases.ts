import type pg from "pg";

/** The query that names the databases of a branch, shown in plans so the reader knows where the names come from. */
export const LIST_DATABASES_SQL = "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname";

/**
 * The databases on the branch `client` is connected to (a Neon branch is one Postgres cluster:
 * `pg_database` lists every database on it), templates left out. Neon's API documents no list of
 * a branch's databases for this tool to use, so the names come from Postgres itself.
 */
export async function listBranchDatabases(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query(LIST_DATABASES_SQL);
  return rows.map((r) => String(r.datname));
}
