import { closest, didYouMean } from "../text/did-you-mean.ts";
import type { OpsConfig } from "./schema.ts";

export { closest };

/** A cross-field rule: pushes `path: message` strings for what is wrong. */
type Rule = (config: OpsConfig, errors: string[]) => void;

const hint = didYouMean;

const deployOrderNamesApps: Rule = (config, errors) => {
  const apps = Object.keys(config.apps);
  config.deployOrder.forEach((name, i) => {
    if (!config.apps[name]) errors.push(`deployOrder[${i}]: "${name}" is not an app${hint(name, apps)}`);
  });
  for (const name of apps) {
    if (!config.deployOrder.includes(name)) errors.push(`deployOrder: app "${name}" is missing; list every app once`);
  }
  const seen = new Set<string>();
  config.deployOrder.forEach((name, i) => {
    if (seen.has(name)) errors.push(`deployOrder[${i}]: "${name}" is listed twice`);
    seen.add(name);
  });
};

const linksPointAtEarlierApps: Rule = (config, errors) => {
  for (const [name, app] of Object.entries(config.apps)) {
    for (const [key, target] of Object.entries(app.links)) {
      if (!config.apps[target]) {
        errors.push(`apps.${name}.links.${key}: "${target}" is not an app${hint(target, Object.keys(config.apps))}`);
      } else if (config.deployOrder.includes(name) && config.deployOrder.indexOf(target) > config.deployOrder.indexOf(name)) {
        // (an app missing from deployOrder is reported by deployOrderNamesApps; it deploys neither before nor after)
        errors.push(`apps.${name}.links.${key}: "${target}" deploys after "${name}"; move it earlier in deployOrder`);
      }
    }
  }
};

const publicAppExists: Rule = (config, errors) => {
  if (!config.apps[config.publicApp]) {
    errors.push(`publicApp: "${config.publicApp}" is not an app${hint(config.publicApp, Object.keys(config.apps))}`);
  }
};

const secretListsAreKnown: Rule = (config, errors) => {
  const declared = new Set(Object.values(config.apps).flatMap((a) => a.secrets));
  config.secrets.generated.forEach((key, i) => {
    if (!declared.has(key)) errors.push(`secrets.generated[${i}]: "${key}" is not given to any app${hint(key, [...declared])}`);
  });
  for (const key of Object.keys(config.secrets.bytes)) {
    if (!config.secrets.generated.includes(key) && !config.secrets.rotatable.includes(key))
      errors.push(`secrets.bytes.${key}: "${key}" is neither generated nor rotatable, so no value of it is made here`);
  }
  config.secrets.plain.forEach((key, i) => {
    if (!declared.has(key)) errors.push(`secrets.plain[${i}]: "${key}" is not given to any app${hint(key, [...declared])}`);
    else if (config.secrets.generated.includes(key) || config.secrets.rotatable.includes(key))
      errors.push(`secrets.plain[${i}]: "${key}" is generated or rotatable, so it is a credential; a plain value is a setting`);
  });
  config.secrets.rotatable.forEach((key, i) => {
    if (!declared.has(key)) errors.push(`secrets.rotatable[${i}]: "${key}" is not given to any app${hint(key, [...declared])}`);
  });
  for (const [name, app] of Object.entries(config.apps)) {
    const seen = new Set<string>();
    app.secrets.forEach((key, i) => {
      if (seen.has(key)) errors.push(`apps.${name}.secrets[${i}]: "${key}" is listed twice`);
      seen.add(key);
    });
  }
};

const BUILD_FIELDS = ["dir", "artifacts", "command", "portEnv"] as const;

const eachAppIsBuiltOrImageOnly: Rule = (config, errors) => {
  for (const [name, app] of Object.entries(config.apps)) {
    if (app.image !== undefined) {
      for (const key of ["artifacts", "command"] as const)
        if (app[key] !== undefined)
          errors.push(`apps.${name}.${key}: an image-only app (image is set) has no build; remove ${key} or remove image`);
      if (!app.fly) errors.push(`apps.${name}.fly: an image-only app runs only on fly; give it fly: { config, public }`);
    } else {
      for (const key of BUILD_FIELDS.filter((k) => app[k] === undefined))
        errors.push(
          `apps.${name}.${key}: required key "${key}" is missing (a built app needs it; an app that runs a prebuilt image sets image instead)`,
        );
    }
  }
};

const optionalAppsStayOptional: Rule = (config, errors) => {
  const app = config.apps[config.publicApp];
  if (app?.optional) errors.push(`publicApp: "${config.publicApp}" is optional; the public app must be deployed in every environment`);
  if (app?.image !== undefined)
    errors.push(`publicApp: "${config.publicApp}" is image-only; the smoke checks need a public app that also runs on the local target`);
  for (const [name, a] of Object.entries(config.apps)) {
    if (a.optional) continue;
    for (const [key, target] of Object.entries(a.links)) {
      if (config.apps[target]?.optional)
        errors.push(
          `apps.${name}.links.${key}: "${target}" is optional, so it may be off where "${name}" is deployed; make "${name}" optional too or drop the link`,
        );
    }
  }
};

const smokeChecksNameApps: Rule = (config, errors) => {
  config.smoke.checks.forEach((check, i) => {
    if (check.app === undefined) return;
    const app = config.apps[check.app];
    if (!app) errors.push(`smoke.checks[${i}].app: "${check.app}" is not an app${hint(check.app, Object.keys(config.apps))}`);
    else if (check.expectReleases && app.image !== undefined)
      errors.push(
        `smoke.checks[${i}].expectReleases: "${check.app}" is image-only and cannot report our release ids; drop expectReleases (the check still proves it answers)`,
      );
  });
};

const databaseSettingsAreSecrets: Rule = (config, errors) => {
  for (const [name, app] of Object.entries(config.apps)) {
    const d = app.databaseSettings;
    if (!d) continue;
    for (const field of ["host", "sslmode"] as const)
      if (!app.secrets.includes(d[field]))
        errors.push(`apps.${name}.databaseSettings.${field}: "${d[field]}" is not in apps.${name}.secrets; list it there so it is synced`);
  }
};

const rules: Rule[] = [
  deployOrderNamesApps,
  linksPointAtEarlierApps,
  publicAppExists,
  secretListsAreKnown,
  eachAppIsBuiltOrImageOnly,
  optionalAppsStayOptional,
  smokeChecksNameApps,
  databaseSettingsAreSecrets,
];

/** Runs every cross-field rule; returns `path: message` lines (empty when the config is sound). */
export function validateConfigRules(config: OpsConfig): string[] {
  const errors: string[] = [];
  for (const rule of rules) rule(config, errors);
  return errors;
}
