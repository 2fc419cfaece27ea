/** Variables a local release inherits from the deployer; nothing else leaks into apps (no tokens, no URLs). */
const INHERITED = ["PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT"];

export function minimalChildEnv(processEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of INHERITED) {
    const v = processEnv[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
