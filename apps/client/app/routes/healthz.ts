// GET /healthz: 200 only when the backend reports SERVING; 503 otherwise. Never cached.
import { checkBackend } from "../lib/backend.server";
import { healthzBody } from "../lib/healthz.server";
import { getEnv } from "../env.server";

export async function loader(): Promise<Response> {
  const report = await checkBackend();
  const body = healthzBody(getEnv().releaseId, report);
  return new Response(JSON.stringify(body), {
    status: body.ok ? 200 : 503,
    headers: {
      "Content-Type": "application/json; charset=utf-8",
      "Cache-Control": "no-store",
    },
  });
}
