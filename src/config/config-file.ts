/**
 * The optional config file (GATEWAY_CONFIG, YAML or JSON) → GatewayConfig. One reader per section
 * of the file format, in file order; the generic readers and the model rules are in
 * config-file-validation.ts. A little past 300 lines so that the format reads top to bottom here.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import {
  type ProviderConfig,
  type ProviderKind,
  type ProviderTimeouts,
  VENDORS,
} from '../providers/registry.js';
import { AUTH_HEADER_NAMES, type AuthHeaderStyle } from '../providers/shared/upstream-client.js';
import type { Vendor } from '../providers/vendor.js';
import {
  checkBaseUrl,
  checkProviderName,
  checkReference,
  childPath,
  hasReference,
  integerFields,
  isWholeReference,
  MAX_TIMER_MS,
  ProblemList,
  readMapping,
  readModels,
  readSection,
  readString,
  requiredString,
  substitute,
  UNBOUNDED,
} from './config-file-validation.js';
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
  const sources = { env, defaults, vendors };
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

const ROOT_KEYS = ['default_provider', 'providers', 'models', 'routing'];
const PROVIDER_KEYS = ['kind', 'base_url', 'api_key', 'headers', 'timeouts'];

/** What the file is read against: the environment for `${VAR}`, the defaults and the vendors. */
interface ConfigSources {
  readonly env: Environment;
  readonly defaults: ConfigFileDefaults;
  readonly vendors: readonly Vendor<ProviderKind>[];
}

function readConfig(
  tree: unknown,
  sources: ConfigSources,
  problems: ProblemList,
): GatewayConfig | null {
  if (tree === null || tree === undefined) {
    problems.add('', 'is empty; it needs at least a providers: section');
    return null;
  }
  const root = readMapping(problems, tree, '', ROOT_KEYS);
  if (root === undefined) return null;

  const providerEntries = readMapping(problems, root.get('providers') ?? new Map(), 'providers');
  const providerNames = [...(providerEntries?.keys() ?? [])];
  if (providerEntries !== undefined && providerNames.length === 0) {
    problems.add('providers', 'at least one provider is required');
  }
  const providers: ProviderConfig[] = [];
  for (const [name, value] of providerEntries ?? []) {
    const path = childPath('providers', name);
    checkProviderName(problems, name, path);
    const provider = readProvider(name, value, path, sources, problems);
    if (provider !== undefined) providers.push(provider);
  }

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
  return { providers, models, defaultProvider, ...readRouting(root.get('routing'), problems) };
}

/** How `api_key` is sent, in the words a header conflict is reported with. */
const SENT_AS = { bearer: 'Authorization: Bearer', 'x-api-key': 'x-api-key' } as const;

function readProvider(
  name: string,
  value: unknown,
  path: string,
  { env, defaults, vendors }: ConfigSources,
  problems: ProblemList,
): ProviderConfig | undefined {
  const fields = readMapping(problems, value, path, PROVIDER_KEYS);
  if (fields === undefined) return undefined;
  const kindText = requiredString(problems, fields, 'kind', path);
  const vendor = vendors.find((known) => known.kind === kindText);
  if (kindText !== undefined && vendor === undefined) {
    const kinds = vendors.map((known) => known.kind).join(', ');
    problems.add(childPath(path, 'kind'), `must be one of ${kinds}`);
  }

  const urlPath = childPath(path, 'base_url');
  let baseUrl = vendor?.defaultBaseUrl;
  if (fields.has('base_url')) {
    const raw = readString(problems, fields.get('base_url'), urlPath);
    const resolved = raw === undefined ? undefined : substitute(problems, raw, urlPath, env);
    baseUrl = resolved === undefined ? undefined : checkBaseUrl(problems, resolved, urlPath);
  } else if (vendor !== undefined && baseUrl === undefined) {
    problems.add(urlPath, `is required for kind ${vendor.kind}`);
  }

  const keyPath = childPath(path, 'api_key');
  let apiKey: string | undefined;
  if (fields.has('api_key')) {
    const raw = readString(problems, fields.get('api_key'), keyPath);
    if (raw !== undefined && !isWholeReference(raw)) {
      problems.add(
        keyPath,
        `must be a \${VAR} reference: write it as \${VAR}; keys never go in the file`,
      );
    } else if (raw !== undefined) {
      apiKey = substitute(problems, raw, keyPath, env);
    }
  } else if (vendor?.apiKeyRequired === true) {
    problems.add(keyPath, `is required for kind ${vendor.kind} (as \${VAR})`);
  }

  // An unknown kind is a problem already; its headers are checked as for a Bearer key.
  const auth = fields.has('api_key') ? (vendor?.auth ?? 'bearer') : undefined;
  const headers = readHeaders(fields.get('headers'), path, auth, env, problems);
  const timeouts = readTimeouts(fields.get('timeouts'), path, defaults, problems);
  if (vendor === undefined || baseUrl === undefined) return undefined;
  const { kind } = vendor;
  return { name, kind, baseUrl, ...(apiKey === undefined ? {} : { apiKey }), headers, timeouts };
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the gateway or the HTTP client sets per request; a fixed value would break framing. */
const GATEWAY_HEADERS: ReadonlySet<string> = new Set([
  ...['host', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer'],
  ...['expect', 'content-length', 'content-type', 'x-request-id'],
]);
/** Header names that carry a credential: a value must come (at least partly) from `${VAR}`. */
const CREDENTIAL_HEADER = /authorization|cookie|key|token|secret|password/;

/** Header names are stored lower-case, as HTTP/2 and undici send them, so merging is exact. */
function readHeaders(
  value: unknown,
  providerPath: string,
  auth: AuthHeaderStyle | undefined,
  env: Environment,
  problems: ProblemList,
): Record<string, string> {
  if (value === undefined) return {};
  const path = childPath(providerPath, 'headers');
  const headers: [string, string][] = [];
  for (const [name, headerValue] of readMapping(problems, value, path) ?? []) {
    const headerPath = childPath(path, name);
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) problems.add(headerPath, 'is not a valid HTTP header name');
    else if (GATEWAY_HEADERS.has(lower)) problems.add(headerPath, 'is set by the gateway');
    else if (auth !== undefined && lower === AUTH_HEADER_NAMES[auth]) {
      problems.add(headerPath, `conflicts with api_key (sent as ${SENT_AS[auth]})`);
    } else if (headers.some(([seen]) => seen === lower)) {
      problems.add(headerPath, 'is given twice (header names ignore case)');
    }
    const raw = readString(problems, headerValue, headerPath);
    if (raw !== undefined && CREDENTIAL_HEADER.test(lower) && !hasReference(raw)) {
      problems.add(
        headerPath,
        `carries a credential: write it as \${VAR}; keys never go in the file`,
      );
      continue;
    }
    const resolved = raw === undefined ? undefined : substitute(problems, raw, headerPath, env);
    if (resolved !== undefined && hasControlCharacter(resolved)) {
      problems.add(headerPath, 'must not contain control characters or line breaks');
    } else if (resolved !== undefined) {
      headers.push([lower, resolved]);
    }
  }
  // fromEntries defines own properties, so even a `__proto__` header name stays plain data.
  return Object.fromEntries(headers);
}

/** Tab is the one control character a header value may hold; CR/LF would split the request. */
function hasControlCharacter(value: string): boolean {
  return [...value].some(
    (character) => (character < ' ' && character !== '\t') || character === '\x7f',
  );
}

function readTimeouts(
  value: unknown,
  providerPath: string,
  defaults: ConfigFileDefaults,
  problems: ProblemList,
): ProviderTimeouts {
  const path = childPath(providerPath, 'timeouts');
  const fields = readSection(problems, value, path, ['connect_ms', 'first_byte_ms', 'idle_ms']);
  const integer = integerFields(problems, fields, path);
  const { connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs } = defaults.timeouts;
  return {
    connectTimeoutMs: integer('connect_ms', 1, MAX_TIMER_MS, connectTimeoutMs),
    firstByteTimeoutMs: integer('first_byte_ms', 1, MAX_TIMER_MS, firstByteTimeoutMs),
    idleTimeoutMs: integer('idle_ms', 1, MAX_TIMER_MS, idleTimeoutMs),
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
