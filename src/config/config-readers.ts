import type { Environment } from './settings.js';

/**
 * Small readers behind every section of the config file: each checks one value, records a problem
 * that names the file and the path when it is wrong, and returns `undefined` then, so checking
 * goes on and every problem is reported at once. Messages never quote a string value from the
 * file or the environment (it may be a key); they quote only key names, public names and
 * variable names.
 */

/** Collects problems as `file: path: message`. */
export class ProblemList {
  readonly messages: string[] = [];
  constructor(readonly fileName: string) {}

  add(path: string, message: string): void {
    this.messages.push(
      path === '' ? `${this.fileName}: ${message}` : `${this.fileName}: ${path}: ${message}`,
    );
  }
}

/** Longest delay `setTimeout` honours; a larger one overflows and fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `providers.groq`, `models["llama3.2"].deployments[0]`: a name with dots or slashes stays one segment. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (PLAIN_KEY.test(key) && key.length <= 64) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${quoted(key)}]`;
}

/**
 * A name from the file as a problem line quotes it: in JSON string syntax with DEL escaped too,
 * so a control character in it shows as `\u0000` and never breaks or hides part of the line; a
 * name too long to be valid is cut, so one bad name does not flood the report.
 */
export function quoted(name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 48)}…` : name;
  return JSON.stringify(shown).replaceAll('\x7f', '\\u007f');
}

/** C0 control characters and DEL, which no name may hold (clients are refused them too). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** A problem for a name holding a control character, naming which and where; true if one. */
function refuseControlCharacters(problems: ProblemList, name: string, path: string): boolean {
  const index = name.search(CONTROL_CHARACTER);
  if (index === -1) return false;
  const character = name.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0');
  problems.add(
    path,
    `contains the control character U+${character} at position ${index}; names cannot contain control characters (U+0000–U+001F, U+007F)`,
  );
  return true;
}

/**
 * A reference to a provider or model by name: refused with a control character in it, else
 * `known(name)` decides; false (after recording why) when it is no name that exists.
 */
export function checkReference(
  problems: ProblemList,
  name: string,
  path: string,
  kind: 'provider' | 'model',
  known: (name: string) => boolean,
): boolean {
  if (refuseControlCharacters(problems, name, path)) return false;
  if (known(name)) return true;
  problems.add(path, `unknown ${kind} ${quoted(name)}`);
  return false;
}

/**
 * A YAML mapping (parsed with `mapAsMap`, so file order and `__proto__`-like keys are safe). With
 * `allowedKeys`, any other key is a problem (catches typos like `base_ulr`) and a key with no
 * value (`timeouts:`) counts as absent; without, it is a map of names whose values stay as given.
 */
export function readMapping(
  problems: ProblemList,
  value: unknown,
  path: string,
  allowedKeys?: readonly string[],
): Map<string, unknown> | undefined {
  if (!(value instanceof Map)) {
    problems.add(path, 'must be a mapping (key: value)');
    return undefined;
  }
  const result = new Map<string, unknown>();
  for (const [key, child] of value) {
    if (typeof key !== 'string') {
      problems.add(path, `key ${String(key)} must be a string (quote it)`);
    } else if (allowedKeys === undefined) {
      result.set(key, child);
    } else if (!allowedKeys.includes(key)) {
      problems.add(
        childPath(path, key),
        `unknown key (expected one of: ${allowedKeys.join(', ')})`,
      );
    } else if (child !== null) {
      result.set(key, child);
    }
  }
  return result;
}

/** A string; YAML reads unquoted `3.5` or `true` as other types, hence the hint. */
export function readString(
  problems: ProblemList,
  value: unknown,
  path: string,
): string | undefined {
  if (typeof value === 'string') return value;
  const quoteHint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it)' : '';
  problems.add(path, `must be a string${quoteHint}`);
  return undefined;
}

/** A required string field of `fields` (the mapping at `path`). */
export function requiredString(
  problems: ProblemList,
  fields: ReadonlyMap<string, unknown>,
  key: string,
  path: string,
): string | undefined {
  if (fields.has(key)) return readString(problems, fields.get(key), childPath(path, key));
  problems.add(childPath(path, key), 'is required');
  return undefined;
}

/** An optional sub-mapping with known keys: empty when absent (or wrong, after recording why). */
export function readSection(
  problems: ProblemList,
  value: unknown,
  path: string,
  allowedKeys: readonly string[],
): ReadonlyMap<string, unknown> {
  if (value === undefined) return new Map();
  return readMapping(problems, value, path, allowedKeys) ?? new Map();
}

/** Largest integer a field may hold when no tighter bound applies. */
export const UNBOUNDED = Number.MAX_SAFE_INTEGER;

/**
 * Reads integer fields of the mapping at `path`: `integer(key, min, max, fallback)` is the value
 * when it is an integer from `min` to `max`, `fallback` when absent (or wrong, after recording why).
 */
export function integerFields(
  problems: ProblemList,
  fields: ReadonlyMap<string, unknown>,
  path: string,
): (key: string, min: number, max: number, fallback: number) => number {
  return (key, min, max, fallback) => {
    const value = fields.get(key);
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max) {
      return value;
    }
    const range = max === UNBOUNDED ? `≥ ${min}` : `from ${min} to ${max}`;
    problems.add(childPath(path, key), `must be an integer ${range}`);
    return fallback;
  };
}

const PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** First path segments the gateway serves itself; a provider there could not be routed to. */
const RESERVED_PROVIDER_NAMES: readonly string[] = [
  'v1',
  'healthz',
  'readyz',
  'metrics',
  'api',
  'admin',
  'ui',
];

/** Provider names are route segments (`/{name}/v1/...`) and `name/model` prefixes. */
export function checkProviderName(problems: ProblemList, name: string, path: string): void {
  const reserved = RESERVED_PROVIDER_NAMES.join(', ');
  if (refuseControlCharacters(problems, name, path)) return;
  if (!PROVIDER_NAME.test(name)) {
    problems.add(
      path,
      'must be 1-64 lowercase letters, digits, - or _, starting with a letter or digit',
    );
  } else if (RESERVED_PROVIDER_NAMES.includes(name)) {
    problems.add(path, `"${name}" is a path the gateway serves itself (reserved: ${reserved})`);
  }
}

/** Model names (public, alias or upstream): what a client can put in `"model"`. */
export function checkModelName(problems: ProblemList, name: string, path: string): boolean {
  if (refuseControlCharacters(problems, name, path)) return false;
  if (name === '' || name.length > 256 || /[\s\p{Cc}]/u.test(name)) {
    problems.add(path, 'model names are 1 to 256 characters without whitespace');
    return false;
  }
  return true;
}

const VARIABLE_NAME = '[A-Za-z_][A-Za-z0-9_]*';
const WHOLE_REFERENCE = new RegExp(`^\\$\\{${VARIABLE_NAME}\\}$`);
const ANY_REFERENCE = new RegExp(`\\$\\{(${VARIABLE_NAME})\\}`, 'g');

/** True when `value` is exactly one `${VAR}` reference, as `api_key` must be. */
export function isWholeReference(value: string): boolean {
  return WHOLE_REFERENCE.test(value);
}

/** True when `value` contains at least one `${VAR}` reference. */
export function hasReference(value: string): boolean {
  return new RegExp(ANY_REFERENCE.source).test(value);
}

/**
 * Replaces each `${VAR}` with the (trimmed) environment value. An unset or empty variable, or a
 * `${` that is not a valid reference, is a problem naming the variable, never a value.
 */
export function substitute(
  problems: ProblemList,
  value: string,
  path: string,
  env: Environment,
): string | undefined {
  let ok = true;
  const result = value.replace(ANY_REFERENCE, (_match, name: string) => {
    const resolved = env[name]?.trim();
    if (resolved === undefined || resolved === '') {
      problems.add(path, `environment variable ${name} is not set (or empty)`);
      ok = false;
      return '';
    }
    return resolved;
  });
  if (value.replace(ANY_REFERENCE, '').includes('${')) {
    problems.add(path, `has a malformed \${…} reference; write \${NAME} (letters, digits, _)`);
    ok = false;
  }
  return ok ? result : undefined;
}

/** An http(s) base URL without credentials, query or fragment; trailing slashes removed. */
export function checkBaseUrl(
  problems: ProblemList,
  value: string,
  path: string,
): string | undefined {
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    problems.add(path, 'must be an http(s) URL');
  } else if (parsed.username !== '' || parsed.password !== '') {
    problems.add(path, `must not contain credentials (user:pass@); use api_key: \${VAR}`);
  } else if (parsed.search !== '' || parsed.hash !== '') {
    problems.add(path, 'must not contain a query or fragment (paths are appended to it)');
  } else {
    return value.replace(/\/+$/, '');
  }
  return undefined;
}

/** The items of an optional list field with their paths: `[]` when absent, `undefined` if no list. */
export function listItems(
  problems: ProblemList,
  fields: ReadonlyMap<string, unknown>,
  key: string,
  path: string,
): [unknown, string][] | undefined {
  const listPath = childPath(path, key);
  const list = fields.get(key) ?? [];
  if (Array.isArray(list)) return list.map((item, index) => [item, childPath(listPath, index)]);
  problems.add(listPath, 'must be a list');
  return undefined;
}
