/**
 * Names derived from an app's name in ops.config.ts, so no module needs to know which apps exist:
 * `web-api` → `WEB_API` → `FLY_APP_WEB_API` (apps.env) and `OPS_LOCAL_WEB_API_PORT` (environment).
 */

/** The upper-cased app name with `-` as `_` (`web-api` → `WEB_API`). */
export function appEnvKey(app: string): string {
  return app.toUpperCase().replace(/-/g, "_");
}

/** The apps.env key holding the app's Fly app name (`FLY_APP_<APP>`). */
export function flyAppKey(app: string): string {
  return `FLY_APP_${appEnvKey(app)}`;
}

/** The environment variable overriding the app's loopback port on the local target (`OPS_LOCAL_<APP>_PORT`). */
export function localPortVar(app: string): string {
  return `OPS_LOCAL_${appEnvKey(app)}_PORT`;
}

/** The apps.env key holding the https URL of a public app other than the public one (`PUBLIC_URL_<APP>`; default `https://<fly app>.fly.dev`). */
export function appUrlKey(app: string): string {
  return `PUBLIC_URL_${appEnvKey(app)}`;
}
