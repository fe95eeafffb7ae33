/**
 * The models section of the config file: public names and aliases (each unique, none shadowing a
 * provider prefix), their deployments, and fallbacks resolved to model names without cycles.
 */
import {
  checkModelName,
  checkReference,
  childPath,
  integerFields,
  listItems,
  type ProblemList,
  quoted,
  readMapping,
  readString,
  requiredString,
  UNBOUNDED,
} from './config-readers.js';
import type { DeploymentConfig, ModelConfig } from './gateway-config.js';

/**
 * Cycles in a graph of model → fallback models, found by a depth-first search (at least one in each
 * loop, so a bad graph is never accepted), each once, starting at its smallest name (`[a, b]`
 * means a → b → a).
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    const onStack = stack.indexOf(node);
    if (onStack >= 0) {
      const cycle = stack.slice(onStack);
      const start = cycle.indexOf([...cycle].sort()[0] ?? node);
      const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
      cycles.set(rotated.join('\u0000'), rotated);
      return;
    }
    if (done.has(node)) return;
    stack.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    stack.pop();
    done.add(node);
  };
  for (const node of graph.keys()) visit(node);
  return [...cycles.values()];
}

interface ModelDraft {
  readonly model: ModelConfig;
  /** Resolved once every public name is known. */
  readonly fallbacks: readonly [unknown, string][];
}

const DEPLOYMENT_KEYS = ['provider', 'model', 'weight', 'max_concurrent'];

/** Models, with every public name and alias unique and fallbacks resolved to model names. */
export function readModels(
  problems: ProblemList,
  value: unknown,
  providerNames: ReadonlySet<string>,
): ModelConfig[] {
  if (value === undefined || value === null) return [];
  // Every public name and alias, to the model it serves; a second use of one is a problem.
  const owners = new Map<string, { model: string; alias: boolean }>();
  const claim = (publicName: string, path: string, model: string, alias: boolean): void => {
    if (!checkModelName(problems, publicName, path)) return;
    const prefix = publicName.slice(0, publicName.indexOf('/'));
    const owner = owners.get(publicName);
    if (providerNames.has(prefix)) {
      problems.add(path, `${quoted(publicName)} would shadow provider/model routing to ${prefix}`);
    } else if (owner !== undefined) {
      const role = owner.alias ? 'an alias of' : 'the name of';
      problems.add(path, `${quoted(publicName)} is already ${role} model ${quoted(owner.model)}`);
    } else {
      owners.set(publicName, { model, alias });
    }
  };
  const drafts: ModelDraft[] = [];
  for (const [name, entry] of readMapping(problems, value, 'models') ?? []) {
    const path = childPath('models', name);
    claim(name, path, name, false);
    const fields = readMapping(problems, entry, path, ['aliases', 'deployments', 'fallbacks']);
    if (fields === undefined) continue;
    const aliases: string[] = [];
    for (const [alias, aliasPath] of listItems(problems, fields, 'aliases', path) ?? []) {
      const text = readString(problems, alias, aliasPath);
      if (text !== undefined) {
        claim(text, aliasPath, name, true);
        aliases.push(text);
      }
    }
    const deployments = readDeployments(problems, fields, path, providerNames);
    const fallbacks = listItems(problems, fields, 'fallbacks', path) ?? [];
    drafts.push({ model: { name, aliases, deployments, fallbacks: [] }, fallbacks });
  }
  // Fallbacks may name models declared later, so they are resolved once all names are known.
  const graph = new Map<string, string[]>();
  const models = drafts.map(({ model, fallbacks }) => {
    const resolved: string[] = [];
    for (const [fallback, fallbackPath] of fallbacks) {
      const text = readString(problems, fallback, fallbackPath);
      if (text === undefined) continue;
      if (!checkReference(problems, text, fallbackPath, 'model', (name) => owners.has(name))) {
        continue;
      }
      const target = owners.get(text)?.model ?? text;
      if (target === model.name) {
        problems.add(fallbackPath, 'a model cannot fall back to itself');
      } else if (resolved.includes(target)) {
        problems.add(fallbackPath, `${quoted(target)} is listed twice`);
      } else {
        resolved.push(target);
      }
    }
    graph.set(model.name, resolved);
    return { ...model, fallbacks: resolved };
  });
  for (const cycle of findCycles(graph)) {
    const first = cycle[0] ?? '';
    const path = childPath(childPath('models', first), 'fallbacks');
    problems.add(path, `fallback cycle ${[...cycle, first].join(' → ')}`);
  }
  return models;
}

function readDeployments(
  problems: ProblemList,
  fields: ReadonlyMap<string, unknown>,
  modelPath: string,
  providerNames: ReadonlySet<string>,
): DeploymentConfig[] {
  const items = listItems(problems, fields, 'deployments', modelPath);
  if (items?.length === 0) {
    problems.add(childPath(modelPath, 'deployments'), 'needs at least one deployment');
  }
  const deployments: DeploymentConfig[] = [];
  for (const [value, path] of items ?? []) {
    const entry = readMapping(problems, value, path, DEPLOYMENT_KEYS);
    if (entry === undefined) continue;
    const provider = requiredString(problems, entry, 'provider', path);
    if (provider !== undefined) {
      const known = (name: string) => providerNames.has(name);
      checkReference(problems, provider, childPath(path, 'provider'), 'provider', known);
    }
    const model = requiredString(problems, entry, 'model', path);
    if (model !== undefined) checkModelName(problems, model, childPath(path, 'model'));
    const integer = integerFields(problems, entry, path);
    const weight = integer('weight', 1, UNBOUNDED, 1);
    const maxConcurrent = entry.has('max_concurrent')
      ? integer('max_concurrent', 1, UNBOUNDED, 1)
      : undefined;
    if (provider === undefined || model === undefined) continue;
    // Routing state (cooldown, in-flight counts) is kept per deployment: a twin would split it.
    const twin = deployments.findIndex((d) => d.provider === provider && d.model === model);
    if (twin >= 0) problems.add(path, `repeats deployments[${twin}]; raise its weight instead`);
    deployments.push({
      provider,
      model,
      weight,
      ...(maxConcurrent === undefined ? {} : { maxConcurrent }),
    });
  }
  return deployments;
}
