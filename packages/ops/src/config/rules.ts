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
  config.secrets.rotatable.forEach((key, i) => {
    if (!declared.has(key)) errors.push(`secrets.rotatable[${i}]: "${key}" is not given to any app${hint(key, [...declared])}`);
  });
  for (const key of Object.keys(config.secrets.rules)) {
    if (!declared.has(key)) errors.push(`secrets.rules.${key}: "${key}" is not given to any app${hint(key, [...declared])}`);
  }
  for (const [name, app] of Object.entries(config.apps)) {
    const seen = new Set<string>();
    app.secrets.forEach((key, i) => {
      if (seen.has(key)) errors.push(`apps.${name}.secrets[${i}]: "${key}" is listed twice`);
      seen.add(key);
    });
  }
};

const rules: Rule[] = [deployOrderNamesApps, linksPointAtEarlierApps, publicAppExists, secretListsAreKnown];

/** Runs every cross-field rule; returns `path: message` lines (empty when the config is sound). */
export function validateConfigRules(config: OpsConfig): string[] {
  const errors: string[] = [];
  for (const rule of rules) rule(config, errors);
  return errors;
}
