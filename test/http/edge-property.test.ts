/**
 * The edge of issue 14 as fast-check properties (the examples are in bad-input.test.ts and the
 * socket cases in test/e2e): a name is refused before any upstream exactly when it holds a control
 * character; prototype keys injected anywhere in a body are removed and nothing else is, with
 * Object.prototype untouched and tool schemas intact; a request body is cut exactly when one of
 * its pauses reaches the body timeout (fake timers, so every schedule runs in microseconds).
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createFakeProviderPair } from '../helpers/fake-provider.js';

const KEY = 'edge-property-key-0123456789';
const HEADERS = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const RUNS = { numRuns: 150, plugins: [fc.timeout(2_000)] };
const BODY_TIMEOUT_MS = 1_000;

let app: Awaited<ReturnType<typeof buildApp>>;
const { providers, byId, relayed, calls } = createFakeProviderPair();

beforeAll(async () => {
  app = await buildApp({
    providers: byId,
    apiKeys: [KEY],
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    ollamaAllowManagement: true,
  });
});
afterAll(async () => {
  await app?.close();
});

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly called: boolean;
}

async function answer(method: 'GET' | 'POST', url: string, payload?: string): Promise<Answer> {
  const before = calls();
  const response = await app.inject({
    method,
    url,
    headers: HEADERS,
    ...(payload === undefined ? {} : { payload }),
  });
  const json = /json/.test(String(response.headers['content-type']));
  const parsed = (json ? JSON.parse(response.body) : {}) as { error?: { code?: string } | string };
  // The native API answers in Ollama's shape, which has no code: its message says which.
  const code =
    typeof parsed.error === 'string'
      ? /control character/.test(parsed.error)
        ? 'invalid_model_name'
        : 'other'
      : parsed.error?.code;
  return { status: response.statusCode, code, called: calls() > before };
}

const CONTROLS = [...Array.from({ length: 32 }, (_, code) => String.fromCharCode(code)), '\x7f'];
const hasControl = (name: string) => [...name].some((character) => CONTROLS.includes(character));

describe('names: refused before any upstream iff they hold a control character', () => {
  const nameCharacter = fc.oneof(
    fc.constantFrom(...CONTROLS),
    // Near misses: C1 controls, separators, non-ASCII, the characters routing reads.
    fc.constantFrom('\x80', '\x85', '\x9f', '\u2028', '\u00a0', ' ', '/', '%', 'é', '\ud800'),
    fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }),
  );
  const name = fc.string({ unit: nameCharacter, minLength: 1, maxLength: 16 });

  const expectVerdict = (given: string, outcome: Answer) => {
    const refused = outcome.status === 400 && outcome.code === 'invalid_model_name';
    expect(refused, `${JSON.stringify(given)} → ${outcome.status} ${outcome.code}`).toBe(
      hasControl(given),
    );
    if (refused) expect(outcome.called).toBe(false);
    expect(outcome.status).toBeLessThan(500);
  };

  const BODY_ROUTES: Readonly<Record<string, (model: string) => object>> = {
    '/v1/chat/completions': (model) => ({ model, messages: [{ role: 'user', content: 'x' }] }),
    '/cerebras/v1/chat/completions': (model) => ({
      model,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    }),
    '/v1/embeddings': (model) => ({ model, input: 'x' }),
    '/ollama/api/chat': (model) => ({ model, messages: [] }),
    '/ollama/api/copy': (model) => ({ source: 'a', destination: model }),
  };
  it.each(Object.keys(BODY_ROUTES))('in the body on %s', async (url) => {
    await fc.assert(
      fc.asyncProperty(name, async (model) => {
        const body = BODY_ROUTES[url]?.(model) ?? {};
        expectVerdict(model, await answer('POST', url, JSON.stringify(body)));
      }),
      RUNS,
    );
  });

  it.each([
    ['POST', 'chat/completions'],
    ['POST', 'embeddings'],
    ['GET', 'models'],
  ] as const)('as the provider segment of %s /{provider}/v1/%s', async (method, rest) => {
    await fc.assert(
      fc.asyncProperty(
        // encodeURIComponent refuses a lone surrogate; `.` and `..` are path steps, not names.
        name.filter((value) => !value.includes('\ud800') && value !== '.' && value !== '..'),
        async (provider) => {
          const url = `/${encodeURIComponent(provider)}/v1/${rest}`;
          const body = JSON.stringify({
            model: 'm',
            input: 'x',
            messages: [{ role: 'user', content: 'x' }],
          });
          expectVerdict(provider, await answer(method, url, method === 'POST' ? body : undefined));
        },
      ),
      RUNS,
    );
  });
});

type Json = fc.JsonValue;
type JsonObject = { [key: string]: Json };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Defines an own enumerable property, so `__proto__` is written as a key, not a prototype. */
function setOwn(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** The reference: what the parser must leave of a parsed value (`__proto__`, `constructor.prototype` gone). */
function withoutPrototypeKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutPrototypeKeys);
  if (!isObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === '__proto__') continue;
    if (
      key === 'constructor' &&
      typeof child === 'object' &&
      child !== null &&
      Object.hasOwn(child, 'prototype')
    ) {
      continue;
    }
    setOwn(result, key, withoutPrototypeKeys(child));
  }
  return result;
}

/** True when any object in `value` still has an own prototype key of either kind. */
function holdsPrototypeKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsPrototypeKey);
  if (typeof value !== 'object' || value === null) return false;
  if (Object.hasOwn(value, '__proto__')) return true;
  const constructorValue = (value as JsonObject).constructor;
  if (
    Object.hasOwn(value, 'constructor') &&
    typeof constructorValue === 'object' &&
    constructorValue !== null &&
    Object.hasOwn(constructorValue, 'prototype')
  ) {
    return true;
  }
  return Object.values(value).some(holdsPrototypeKey);
}

describe('prototype keys: removed wherever they are, and nothing else', () => {
  const poison = fc.oneof(
    fc.record({ key: fc.constant('__proto__'), value: fc.jsonValue({ maxDepth: 2 }) }),
    fc.record({
      key: fc.constant('constructor'),
      value: fc.jsonValue({ maxDepth: 1 }).map((inner) => {
        const holder: JsonObject = {};
        setOwn(holder, 'prototype', inner);
        return holder as Json;
      }),
    }),
  );
  /** Where each poison goes: an object of the body, by index (modulo their count). */
  const injections = fc.array(fc.record({ at: fc.nat(), poison }), { minLength: 1, maxLength: 4 });
  /** Fields the schema does not know (so any value is valid), holding arbitrary JSON. */
  const extra = fc.dictionary(
    fc.string({ maxLength: 8 }).map((key) => `x-${key}`),
    fc.jsonValue({ maxDepth: 4 }),
    { maxKeys: 4 },
  );
  /** A tool schema whose properties are named like the dangerous keys: it must stay whole. */
  const parameters = {
    type: 'object',
    properties: {
      constructor: { type: 'string' },
      prototype: { type: 'object', properties: { constructor: { type: 'number' } } },
    },
    required: ['constructor', 'prototype'],
  };

  function objectsIn(value: Json, found: JsonObject[] = []): JsonObject[] {
    if (Array.isArray(value)) for (const item of value) objectsIn(item, found);
    else if (isObject(value)) {
      found.push(value);
      for (const child of Object.values(value)) objectsIn(child, found);
    }
    return found;
  }

  afterEach(() => {
    // Nothing was ever written onto Object.prototype.
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it.each([
    ['/v1/chat/completions', 0],
    ['/cerebras/v1/chat/completions', 1],
    ['/ollama/api/chat', -1],
  ])('%s: served, with exactly the injected keys gone', async (url, providerIndex) => {
    await fc.assert(
      fc.asyncProperty(extra, injections, async (fields, poisons) => {
        const body = {
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          ...structuredClone(fields),
        } as JsonObject;
        // Anywhere but inside the tool schema, whose own properties are the ones to keep.
        const targets = objectsIn(body as Json);
        for (const { at, poison: injected } of poisons) {
          const target = targets[at % targets.length];
          if (target !== undefined) setOwn(target, injected.key, injected.value);
        }
        const tools = [
          { type: 'function', function: { name: 'f', parameters: structuredClone(parameters) } },
        ];
        setOwn(body, 'tools', tools as Json);
        const text = JSON.stringify(body);
        const outcome = await answer('POST', url, text);
        expect(outcome.status, text).toBe(200);
        const received =
          providerIndex === -1
            ? (JSON.parse(relayed.at(-1)?.body ?? 'null') as unknown)
            : providers[providerIndex]?.calls.at(-1)?.request;
        expect(holdsPrototypeKey(received), text).toBe(false);
        expect(received).toEqual(withoutPrototypeKeys(JSON.parse(text) as Json));
        const tool = (received as { tools: { function: { parameters: unknown } }[] }).tools[0];
        expect(tool?.function.parameters).toEqual(parameters);
        expect(({} as JsonObject).polluted).toBeUndefined();
      }),
      RUNS,
    );
  });
});

describe('body timing: cut iff a pause reaches BODY_TIMEOUT_MS', () => {
  const BODY = JSON.stringify({
    model: 'm',
    messages: [{ role: 'user', content: 'a body in pieces' }],
  });

  beforeAll(() => {
    // Only the timers are fake: streams and inject run on the real event loop.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  /** Lets the event loop deliver what was pushed (setImmediate is not faked). */
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('pieces sent after arbitrary pauses: 408 iff one pause (the last before the end included) ≥ the timeout', async () => {
    // Mostly short pauses, so that many schedules have none reaching the timeout.
    const pause = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: BODY_TIMEOUT_MS - 1 }), weight: 8 },
      { arbitrary: fc.integer({ min: BODY_TIMEOUT_MS, max: BODY_TIMEOUT_MS * 3 }), weight: 1 },
      { arbitrary: fc.constantFrom(0, BODY_TIMEOUT_MS - 1, BODY_TIMEOUT_MS), weight: 1 },
    );
    // Where the body is split (up to 6 pieces), and the pause before each piece and before its end.
    const schedule = fc.record({
      cuts: fc.uniqueArray(fc.integer({ min: 1, max: BODY.length - 1 }), { maxLength: 5 }),
      pauses: fc.array(pause, { minLength: 7, maxLength: 7 }),
    });
    const tally = { cut: 0, served: 0 };
    await fc.assert(
      fc.asyncProperty(schedule, async ({ cuts, pauses }) => {
        const ends = [...cuts.sort((a, b) => a - b), BODY.length];
        const chunks = ends.map((end, index) => BODY.slice(ends[index - 1] ?? 0, end));
        const used = pauses.slice(0, chunks.length + 1);
        const cut = used.some((pause) => pause >= BODY_TIMEOUT_MS);
        const payload = new Readable({ read() {} });
        const before = calls();
        const response = app.inject({
          method: 'POST',
          url: '/v1/chat/completions',
          headers: { ...HEADERS, 'content-length': String(Buffer.byteLength(BODY)) },
          payload,
        });
        for (const [index, pause] of used.entries()) {
          await settle();
          await vi.advanceTimersByTimeAsync(pause);
          // Once cut, the client's later bytes no longer matter.
          if (pause >= BODY_TIMEOUT_MS) break;
          payload.push(chunks[index] ?? null);
        }
        const result = await response;
        payload.destroy();
        expect(result.statusCode, JSON.stringify({ cuts, used })).toBe(cut ? 408 : 200);
        if (cut)
          expect(JSON.parse(result.body)).toMatchObject({ error: { code: 'request_timeout' } });
        expect(calls() > before).toBe(!cut);
        tally[cut ? 'cut' : 'served'] += 1;
        // Whatever happened, no body timer is left behind.
        expect(vi.getTimerCount()).toBe(0);
      }),
      { ...RUNS, numRuns: 200 },
    );
    expect(tally.cut).toBeGreaterThan(20);
    expect(tally.served).toBeGreaterThan(20);
  });
});
