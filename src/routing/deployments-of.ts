import type { ModelConfig } from '../config/gateway-config.js';

/**
 * Every deployment (`provider/model`) that may serve a model name on a route, fallbacks included:
 * for a budget, the dearest of them is the request's worst case. A public name or alias → its
 * deployments and its fallbacks' (transitively); on a pinned route, or `provider/model` of a
 * configured provider → that one; anything else → the default provider's.
 */
export function deploymentsOf(
  models: readonly ModelConfig[],
  providers: ReadonlySet<string>,
  defaultProvider: string,
): (model: string, pinnedProvider: string | undefined) => readonly string[] {
  const byName = new Map<string, ModelConfig>();
  for (const model of models) {
    byName.set(model.name, model);
    for (const alias of model.aliases) byName.set(alias, model);
  }
  const expanded = new Map<string, readonly string[]>();
  for (const model of models) {
    const seen = new Set<string>();
    const result: string[] = [];
    const visit = (config: ModelConfig) => {
      if (seen.has(config.name)) return;
      seen.add(config.name);
      for (const deployment of config.deployments) {
        result.push(`${deployment.provider}/${deployment.model}`);
      }
      for (const fallback of config.fallbacks) {
        const next = byName.get(fallback);
        if (next !== undefined) visit(next);
      }
    };
    visit(model);
    expanded.set(model.name, result);
  }
  return (model, pinnedProvider) => {
    if (pinnedProvider !== undefined) return [`${pinnedProvider}/${model}`];
    const config = byName.get(model);
    if (config !== undefined) return expanded.get(config.name) ?? [];
    const slash = model.indexOf('/');
    if (slash > 0 && providers.has(model.slice(0, slash))) return [model];
    return [`${defaultProvider}/${model}`];
  };
}
