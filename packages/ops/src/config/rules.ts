import type { OpsConfig } from "./schema.ts";

/** A cross-field rule: pushes `path: message` strings for what is wrong. */
type Rule = (config: OpsConfig, errors: string[]) => void;

/** The closest candidate within edit distance 2, for "did you mean" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

const hint = (word: string, candidates: readonly string[]) => {
  const c = closest(word, candidates);
  return c ? `; did you mean ${c}?` : "";
};

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
