/**
 * The optional config file (GATEWAY_CONFIG, YAML or JSON) → GatewayConfig: parsing, the root and
 * routing sections here; the providers and models sections in config-providers.ts and
 * config-models.ts, on the generic readers of config-readers.ts.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { type ProviderKind, type ProviderTimeouts, VENDORS } from '../providers/registry.js';
import type { Vendor } from '../providers/vendor.js';
import { readModels } from './config-models.js';
import { readPrices } from './config-prices.js';
import { type ProviderSources, readProviders } from './config-providers.js';
import {
  checkReference,
  integerFields,
  MAX_TIMER_MS,
  ProblemList,
  readMapping,
  readSection,
  readString,
  UNBOUNDED,
} from './config-readers.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
  type RetryPolicy,
} from './gateway-config.js';
import { ConfigError, deepFreeze, type Environment } from './settings.js';

/** What the file falls back to when it leaves a value out (the environment's settings). */
export interface ConfigFileDefaults {
  readonly timeouts: ProviderTimeouts;
}

/**
 * Reads and validates the config file named by GATEWAY_CONFIG (start-up only, hence synchronous).
 * Throws ConfigError listing every problem as `file: path: problem`.
 */
export function loadConfigFile(
  path: string,
  env: Environment,
  defaults: ConfigFileDefaults,
): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError([`${path}: cannot read the config file (${code})`]);
  }
  return parseConfig(text, path, env, defaults);
}

/**
 * Parses config text (strict JSON when `fileName` ends in `.json`, YAML otherwise), substitutes
 * `${VAR}` from `env`, validates, fills defaults and returns a deeply frozen GatewayConfig. Pure;
 * throws ConfigError listing every problem. Kinds are those of `vendors`: the registry's but in
 * tests that add one.
 */
export function parseConfig(
  text: string,
  fileName: string,
  env: Environment,
  defaults: ConfigFileDefaults,
  vendors: readonly Vendor<ProviderKind>[] = VENDORS,
): GatewayConfig {
  const problems = new ProblemList(fileName);
  const tree = parseTree(text.replace(/^\uFEFF/, ''), fileName, problems);
  const sources = { env, timeouts: defaults.timeouts, vendors };
  const config = problems.messages.length === 0 ? readConfig(tree, sources, problems) : null;
  if (config === null || problems.messages.length > 0) throw new ConfigError(problems.messages);
  return deepFreeze(config);
}

/**
 * Both formats go through the YAML parser (JSON is YAML): it keeps mappings in file order (a JS
 * object would put `"123"` first) and rejects duplicate keys, which JSON.parse silently drops.
 * JSON.parse only holds `.json` files to strict JSON. Its messages quote source text, which may
 * hold a key, so only their source-free part is repeated.
 */
function parseTree(text: string, fileName: string, problems: ProblemList): unknown {
  if (fileName.toLowerCase().endsWith('.json')) {
    try {
      JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : '';
      const position = /at position (\d+)/.exec(message)?.[1];
      const reason = message.includes('"')
        ? 'unexpected token'
        : message.replace(/ (in JSON )?at position \d+$/, '');
      const where = position === undefined ? '' : ` at ${lineAndColumn(text, Number(position))}`;
      problems.add('', `not valid JSON: ${reason}${where}`);
      return undefined;
    }
  }
  const document = parseDocument(text, { prettyErrors: false });
  for (const error of document.errors) {
    // Two parser messages end by quoting source text (which may hold a key); drop that part.
    const message = error.message.replace(LEAKY_YAML_MESSAGE, '$1');
    problems.add('', `${lineAndColumn(text, error.pos[0])}: ${message}`);
  }
  if (document.errors.length > 0) return undefined;
  try {
    return document.toJS({ mapAsMap: true, maxAliasCount: 100 }) as unknown;
  } catch {
    problems.add('', 'too many YAML alias expansions');
    return undefined;
  }
}

const LEAKY_YAML_MESSAGE =
  /^(Block scalar header includes extra characters|Invalid escape sequence).*$/s;

function lineAndColumn(text: string, offset: number): string {
  const lines = text.slice(0, offset).split('\n');
  return `line ${lines.length}, column ${(lines.at(-1)?.length ?? 0) + 1}`;
}

const ROOT_KEYS = ['default_provider', 'providers', 'models', 'routing', 'prices'];

function readConfig(
  tree: unknown,
  sources: ProviderSources,
  problems: ProblemList,
): GatewayConfig | null {
  if (tree === null || tree === undefined) {
    problems.add('', 'is empty; it needs at least a providers: section');
    return null;
  }
  const root = readMapping(problems, tree, '', ROOT_KEYS);
  if (root === undefined) return null;

  const { providers, providerNames } = readProviders(problems, root.get('providers'), sources);

  // The first provider in file order serves names no model, alias or `provider/` prefix claims.
  let defaultProvider = providerNames[0] ?? '';
  if (root.has('default_provider')) {
    const name = readString(problems, root.get('default_provider'), 'default_provider');
    const known = (provider: string) => providerNames.includes(provider);
    if (
      name !== undefined &&
      checkReference(problems, name, 'default_provider', 'provider', known)
    ) {
      defaultProvider = name;
    }
  }

  const models = readModels(problems, root.get('models'), new Set(providerNames));
  return {
    providers,
    models,
    prices: readPrices(problems, root.get('prices')),
    defaultProvider,
    ...readRouting(root.get('routing'), problems),
  };
}

const RETRY_KEYS = [
  'max_attempts',
  'initial_backoff_ms',
  'max_backoff_ms',
  'max_retry_after_ms',
  'budget_ms',
];

function readRouting(
  value: unknown,
  problems: ProblemList,
): Pick<GatewayConfig, 'retry' | 'cooldown'> {
  const routing = readSection(problems, value, 'routing', ['retry', 'cooldown']);
  const retryPath = 'routing.retry';
  const retryFields = readSection(problems, routing.get('retry'), retryPath, RETRY_KEYS);
  const retry = integerFields(problems, retryFields, retryPath);
  const defaults = DEFAULT_RETRY_POLICY;
  const policy: RetryPolicy = {
    maxAttempts: retry('max_attempts', 1, 10, defaults.maxAttempts),
    initialBackoffMs: retry('initial_backoff_ms', 0, MAX_TIMER_MS, defaults.initialBackoffMs),
    maxBackoffMs: retry('max_backoff_ms', 0, MAX_TIMER_MS, defaults.maxBackoffMs),
    maxRetryAfterMs: retry('max_retry_after_ms', 0, MAX_TIMER_MS, defaults.maxRetryAfterMs),
    budgetMs: retry('budget_ms', 1, MAX_TIMER_MS, defaults.budgetMs),
  };
  // Compared after defaults are filled: `initial_backoff_ms: 5000` alone exceeds the default max.
  if (policy.maxBackoffMs < policy.initialBackoffMs) {
    problems.add(
      `${retryPath}.max_backoff_ms`,
      `must be ≥ initial_backoff_ms (${policy.maxBackoffMs} < ${policy.initialBackoffMs}; left-out values take their defaults)`,
    );
  }
  const cooldownPath = 'routing.cooldown';
  const cooldownKeys = ['failure_threshold', 'cooldown_ms'];
  const cooldownFields = readSection(problems, routing.get('cooldown'), cooldownPath, cooldownKeys);
  const cooldown = integerFields(problems, cooldownFields, cooldownPath);
  const { failureThreshold, cooldownMs } = DEFAULT_COOLDOWN_POLICY;
  return {
    retry: policy,
    cooldown: {
      failureThreshold: cooldown('failure_threshold', 1, UNBOUNDED, failureThreshold),
      cooldownMs: cooldown('cooldown_ms', 0, MAX_TIMER_MS, cooldownMs),
    },
  };
}
