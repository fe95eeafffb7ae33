/**
 * The providers section of the config file: each named provider, checked against its vendor's
 * descriptor (kind, default base URL, required key, the header the key is sent in), with its
 * extra headers and timeouts.
 */
import type { ProviderConfig, ProviderKind, ProviderTimeouts } from '../providers/registry.js';
import { AUTH_HEADER_NAMES, type AuthHeaderStyle } from '../providers/shared/upstream-client.js';
import type { Vendor } from '../providers/vendor.js';
import {
  checkBaseUrl,
  checkProviderName,
  childPath,
  hasReference,
  integerFields,
  isWholeReference,
  MAX_TIMER_MS,
  type ProblemList,
  readMapping,
  readSection,
  readString,
  requiredString,
  substitute,
} from './config-readers.js';
import type { Environment } from './settings.js';

/** What the providers are read against. */
export interface ProviderSources {
  /** Values of `${VAR}` references. */
  readonly env: Environment;
  /** For a provider that leaves its timeouts (or some of them) out. */
  readonly timeouts: ProviderTimeouts;
  /** The kinds a provider may have: the registry's vendors. */
  readonly vendors: readonly Vendor<ProviderKind>[];
}

const PROVIDER_KEYS = ['kind', 'base_url', 'api_key', 'headers', 'timeouts'];

/** The providers, in file order, and every name given (a bad provider's too, for references). */
export function readProviders(
  problems: ProblemList,
  value: unknown,
  sources: ProviderSources,
): { readonly providers: ProviderConfig[]; readonly providerNames: string[] } {
  const entries = readMapping(problems, value ?? new Map(), 'providers');
  const providerNames = [...(entries?.keys() ?? [])];
  if (entries !== undefined && providerNames.length === 0) {
    problems.add('providers', 'at least one provider is required');
  }
  const providers: ProviderConfig[] = [];
  for (const [name, entry] of entries ?? []) {
    const path = childPath('providers', name);
    checkProviderName(problems, name, path);
    const provider = readProvider(name, entry, path, sources, problems);
    if (provider !== undefined) providers.push(provider);
  }
  return { providers, providerNames };
}

/** How `api_key` is sent, in the words a header conflict is reported with. */
const SENT_AS = { bearer: 'Authorization: Bearer', 'x-api-key': 'x-api-key' } as const;

function readProvider(
  name: string,
  value: unknown,
  path: string,
  { env, timeouts: defaultTimeouts, vendors }: ProviderSources,
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
  const timeouts = readTimeouts(fields.get('timeouts'), path, defaultTimeouts, problems);
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
  defaults: ProviderTimeouts,
  problems: ProblemList,
): ProviderTimeouts {
  const path = childPath(providerPath, 'timeouts');
  const fields = readSection(problems, value, path, ['connect_ms', 'first_byte_ms', 'idle_ms']);
  const integer = integerFields(problems, fields, path);
  const { connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs } = defaults;
  return {
    connectTimeoutMs: integer('connect_ms', 1, MAX_TIMER_MS, connectTimeoutMs),
    firstByteTimeoutMs: integer('first_byte_ms', 1, MAX_TIMER_MS, firstByteTimeoutMs),
    idleTimeoutMs: integer('idle_ms', 1, MAX_TIMER_MS, idleTimeoutMs),
  };
}
