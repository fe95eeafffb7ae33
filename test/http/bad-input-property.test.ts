/**
 * The bad-input suite of issue 5 (fast-check properties; the examples are in bad-input.test.ts):
 * whatever JSON value, whatever mutation of a valid body and whatever text is posted to the chat
 * and embeddings routes, the answer is 200 or a 4xx in the OpenAI envelope, never a 5xx or a hang,
 * and a provider is called exactly when the answer is 200.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

const KEY = 'bad-input-key-0123456789';
const HEADERS = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const RUNS = { numRuns: 300, plugins: [fc.timeout(2_000)] };

type Json = fc.JsonValue;
type Path = readonly (string | number)[];

const VALID_CHAT = {
  model: 'm',
  messages: [
    { role: 'system', content: 's' },
    { role: 'user', content: [{ type: 'text', text: 't' }] },
    {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'c1', content: 'r' },
  ],
  stream: false,
  stream_options: { include_usage: true },
  temperature: 1,
  top_p: 0.5,
  max_tokens: 16,
  seed: 1,
  stop: ['x'],
  n: 1,
  tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
  tool_choice: 'auto',
  response_format: { type: 'json_object' },
  logit_bias: { '50256': -100 },
  reasoning_effort: 'low',
  user: 'u',
} as const;
const VALID_EMBEDDINGS = {
  model: 'e',
  input: ['a', 'b'],
  encoding_format: 'float',
  dimensions: 8,
  user: 'u',
} as const;

/** Characters that break naive code: lone surrogates, NUL, BOM, RTL, JSON syntax, any code point. */
const hostileChar = fc.oneof(
  fc.constantFrom('\ud800', '\udfff', '\u0000', '\ufeff', '\u202e', '\u2028', '"', '\\', '{', '\n'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const hostileString = fc.string({ unit: hostileChar, maxLength: 12 });
const edgeValue = fc.constantFrom<Json>(
  '',
  'x'.repeat(300),
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  [],
  {},
  Array.from({ length: 200 }, () => 'x'),
  null,
);
const jsonValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3, stringUnit: hostileChar }),
  edgeValue,
  hostileString,
);
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'model', 'stream'),
  hostileString,
);

type Mutation =
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'replace'; readonly at: number; readonly value: Json }
  | { readonly kind: 'add'; readonly at: number; readonly key: string; readonly value: Json }
  | { readonly kind: 'field'; readonly name: string; readonly value: Json };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), value: jsonValue }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), key, value: jsonValue }),
  // The fields the gateway itself reads, hit directly rather than one node in sixty.
  fc.record({
    kind: fc.constant('field' as const),
    name: fc.constantFrom('model', 'messages', 'stream', 'stream_options', 'input', 'tools'),
    value: jsonValue,
  }),
);

/** A text edit on the serialised body: cut it short, or splice text in at a position. */
const textEdit = fc.option(
  fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: hostileString }),
  { nil: undefined },
);

function isContainer(value: unknown): value is Record<string, Json> | Json[] {
  return typeof value === 'object' && value !== null;
}

/** Every node's path (the root's is empty), containers before their children. */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (!isContainer(value)) return [prefix];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((item, index): [number, Json] => [index, item])
    : Object.entries(value).map(([name, item]): [string, Json] => [name, item ?? null]);
  return [prefix, ...entries.flatMap(([step, item]) => pathsOf(item, [...prefix, step]))];
}

function nodeAt(root: Json, path: Path): Json | undefined {
  let node: Json | undefined = root;
  for (const step of path)
    node = isContainer(node) ? (node as Record<string, Json>)[step] : undefined;
  return node;
}

/** Own enumerable properties only, so `__proto__` is written as a key, not a prototype. */
function setOwn(target: Record<string | number, Json>, name: string | number, value: Json): void {
  Object.defineProperty(target, name, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function mutate(body: Json, mutations: readonly Mutation[]): Json {
  let root: Json = structuredClone(body);
  // Generated values can be shared constants (fc.constantFrom): insert copies, never the value.
  for (const original of mutations) {
    const change =
      'value' in original ? { ...original, value: structuredClone(original.value) } : original;
    if (change.kind === 'field') {
      if (isContainer(root) && !Array.isArray(root)) setOwn(root, change.name, change.value);
      continue;
    }
    const paths = pathsOf(root);
    const path = paths[change.at % paths.length] ?? [];
    const parent = nodeAt(root, path.slice(0, -1));
    const step = path.at(-1);
    if (change.kind === 'add') {
      const node = nodeAt(root, path);
      if (isContainer(node) && !Array.isArray(node)) setOwn(node, change.key, change.value);
      else if (Array.isArray(node)) node.push(change.value);
    } else if (step === undefined || !isContainer(parent)) {
      root = change.kind === 'replace' ? change.value : null;
    } else if (change.kind === 'replace') {
      setOwn(parent as Record<string | number, Json>, step, change.value);
    } else if (Array.isArray(parent) && typeof step === 'number') {
      parent.splice(step, 1);
    } else {
      delete (parent as Record<string | number, Json>)[step];
    }
  }
  return root;
}

let app: Awaited<ReturnType<typeof buildApp>>;
let providers: FakeProvider[];
beforeAll(async () => {
  providers = [createFakeProvider('ollama'), createFakeProvider('cerebras')];
  app = await buildApp({
    providers: new Map(providers.map((provider) => [provider.id, provider])),
    apiKeys: [KEY],
    bodyLimitBytes: 64 * 1024,
  });
});
afterAll(async () => {
  await app?.close();
});

/** Every answer seen, by status, for the report line of each property. */
const tally = new Map<number, number>();

/** Posts `text`; asserts 200-or-4xx, the envelope on errors, and a provider call iff 200. */
async function checkAnswer(url: string, text: string): Promise<void> {
  const before = providers.reduce((sum, provider) => sum + provider.calls.length, 0);
  const response = await app.inject({ method: 'POST', url, headers: HEADERS, payload: text });
  const after = providers.reduce((sum, provider) => sum + provider.calls.length, 0);
  const status = response.statusCode;
  tally.set(status, (tally.get(status) ?? 0) + 1);
  expect(status === 200 || (status >= 400 && status < 500), `${status} for ${text}`).toBe(true);
  expect(after > before, `provider called with ${status} for ${text}`).toBe(status === 200);
  if (status >= 400) {
    const { error } = JSON.parse(response.body) as { error: Record<string, unknown> };
    expect(error).toMatchObject({ type: expect.any(String), code: expect.any(String) });
    expect(String(error.message).length).toBeGreaterThan(0);
  }
}

const ROUTES = {
  '/v1/chat/completions': VALID_CHAT,
  '/cerebras/v1/chat/completions': VALID_CHAT,
  '/v1/embeddings': VALID_EMBEDDINGS,
  '/ollama/v1/embeddings': VALID_EMBEDDINGS,
} as const;

describe.each(Object.entries(ROUTES))('POST %s', (url, valid) => {
  it('the valid body itself is served (the mutations start from a real success)', async () => {
    await checkAnswer(url, JSON.stringify(valid));
    expect(tally.get(200)).toBeGreaterThan(0);
  });

  it('any JSON value → 200 or a 4xx envelope, a provider call only on 200', async () => {
    await fc.assert(
      fc.asyncProperty(jsonValue, async (value) => {
        const text = JSON.stringify(value);
        await checkAnswer(url, text);
      }),
      RUNS,
    );
  });

  it('any mutation of a valid body, structural and textual → the same', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        textEdit,
        async (mutations, edit) => {
          let text = JSON.stringify(mutate(valid as unknown as Json, mutations)) ?? '';
          if (edit !== undefined) {
            const at = edit.at % (text.length + 1);
            text = `${text.slice(0, at)}${edit.insert}${text.slice(at + edit.remove)}`;
          }
          await checkAnswer(url, text);
        },
      ),
      RUNS,
    );
  });
});

describe('the spread of answers', () => {
  it('covers successes, malformed JSON and schema violations', () => {
    // Guards against a property that passes because every input fails the same trivial way.
    for (const status of [200, 400, 422])
      expect(tally.get(status), `${status}`).toBeGreaterThan(50);
  });
});
