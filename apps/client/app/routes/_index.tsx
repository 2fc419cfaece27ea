import type { HeadersFunction, MetaFunction } from "@remix-run/node";
import { useLoaderData, useRevalidator } from "@remix-run/react";
import { checkBackend } from "../lib/backend.server";
import { getEnv } from "../env.server";

export const meta: MetaFunction = () => [{ title: "Deploy ops demo" }];

export const headers: HeadersFunction = () => ({ "Cache-Control": "no-store" });

export async function loader() {
  const backend = await checkBackend();
  return { clientRelease: getEnv().releaseId, backend };
}

function show(value: string | number | null | undefined) {
  return value === null || value === undefined || value === "" ? <span className="muted">—</span> : <code>{value}</code>;
}

export default function Index() {
  const { clientRelease, backend } = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  const serving = backend.status === "SERVING";
  const db = backend.databaseReachable;
  return (
    <main>
      <h1>Deploy ops demo</h1>
      <table>
        <tbody>
          <tr>
            <th>Client release</th>
            <td>{show(clientRelease)}</td>
          </tr>
          <tr>
            <th>Backend health</th>
            <td>
              <span className={`badge ${serving ? "good" : "bad"}`} data-testid="backend-status">
                {backend.status}
              </span>
            </td>
          </tr>
          <tr>
            <th>Backend release</th>
            <td>{show(backend.release)}</td>
          </tr>
          <tr>
            <th>Schema version</th>
            <td>{show(backend.schemaVersion)}</td>
          </tr>
          <tr>
            <th>Database reachable</th>
            <td>
              {db === null ? show(null) : <span className={`badge ${db ? "good" : "bad"}`}>{db ? "yes" : "no"}</span>}
              {backend.databaseError ? <div className="muted">{backend.databaseError}</div> : null}
            </td>
          </tr>
          <tr>
            <th>Releases seen</th>
            <td>{show(backend.releasesSeen)}</td>
          </tr>
          <tr>
            <th>Backend started</th>
            <td>{show(backend.startedAt)}</td>
          </tr>
        </tbody>
      </table>
      {backend.error ? (
        <p className="error" role="alert">
          The backend could not be asked: {backend.error}
        </p>
      ) : null}
      <footer>
        Checked {backend.checkedAt} ({backend.latencyMs} ms).{" "}
        <button type="button" onClick={() => revalidator.revalidate()} disabled={revalidator.state !== "idle"}>
          {revalidator.state === "idle" ? "Check again" : "Checking…"}
        </button>
      </footer>
    </main>
  );
}
