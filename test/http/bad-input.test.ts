/**
 * The bad-input suite of issue 5 (examples; the fast-check properties are in
 * bad-input-property.test.ts): malformed, truncated, mistyped, oversized, deeply nested and
 * Unicode-hostile requests get the right 4xx in the OpenAI envelope, never a 5xx, and never reach a
 * provider. `app.inject()` with fake providers, plus a loopback socket where only real HTTP tells
 * (Content-Length before the body, duplicate headers, chunked bodies).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { ChatRequest } from '../../src/openai/chat-types.js';
import { createFakeProviderPair } from '../helpers/fake-provider.js';
import { exchangeOnce, RawConnection } from '../helpers/raw-http.js';

const KEY = 'bad-input-key-0123456789';
const LIMIT = 256 * 1024;
const JSON_HEADERS = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
const CHAT = '/v1/chat/completions';
const EMBEDDINGS = '/v1/embeddings';
const user = (content: unknown) => ({ role: 'user', content });
const chatBody = (extra: Record<string, unknown> = {}) => ({
  model: 'm',
  messages: [user('hi')],
  ...extra,
});
const VALID = JSON.stringify(chatBody());

let app: Awaited<ReturnType<typeof buildApp>>;
const { providers, byId, relayed, calls: providerCalls } = createFakeProviderPair();

beforeAll(async () => {
  app = await buildApp({
    providers: byId,
    apiKeys: [KEY],
    bodyLimitBytes: LIMIT,
    ollamaAllowManagement: true,
  });
});
afterAll(async () => {
  await app?.close();
});

interface Outcome {
  readonly status: number;
  readonly body: string;
  readonly called: boolean;
}

async function send(
  url: string,
  payload: string | Buffer,
  headers: Record<string, string> = JSON_HEADERS,
): Promise<Outcome> {
  const before = providerCalls();
  const response = await app.inject({ method: 'POST', url, headers, payload });
  return { status: response.statusCode, body: response.body, called: providerCalls() > before };
}

/** The refusal the suite expects: this status and code in the envelope, and no provider call. */
function expectRefused(outcome: Outcome, status: number, code: string, param?: string | null) {
  expect(outcome.status).toBe(status);
  const { error } = JSON.parse(outcome.body) as { error: Record<string, unknown> };
  expect(error).toMatchObject({ type: 'invalid_request_error', code });
  expect(String(error.message).length).toBeGreaterThan(0);
  expect(error).toHaveProperty('param');
  if (param !== undefined) expect(error.param).toBe(param);
  expect(outcome.called).toBe(false);
}

const nest = (depth: number, open: string, close: string, leaf = '1') =>
  `${open.repeat(depth)}${leaf}${close.repeat(depth)}`;

describe('malformed and truncated JSON → 400 invalid_json', () => {
  const MALFORMED = [
    '',
    ' \n\t ',
    '{',
    '{"model":',
    "{'model':'m'}",
    '{model:"m"}',
    '{"model":"m",}',
    '{"model":"m"}}',
    `${VALID}garbage`,
    `${VALID}${VALID}`,
    'NaN',
    '{"model":"m","messages":[{"role":"user","content":"\u0001"}]}',
    '{"model":"m","messages":[{"role":"user","content":"\\x41"}]}',
    '{"model":"m","messages":[{"role":"user","content":"\\ud800\\u12"}]}',
  ];
  it.each(MALFORMED.map((text) => [text.slice(0, 40), text]))('%j', async (_name, text) => {
    expectRefused(await send(CHAT, text), 400, 'invalid_json');
  });

  it('every proper prefix of a valid body (a truncated upload)', async () => {
    for (let length = 0; length < VALID.length; length++) {
      expectRefused(await send(CHAT, VALID.slice(0, length)), 400, 'invalid_json');
    }
  });
});

describe('valid JSON is never "not valid JSON"', () => {
  const lastRequest = () => providers[0]?.calls.at(-1)?.request as Record<string, unknown>;
  const MESSAGES = '"messages":[{"role":"user","content":"x"}]';

  it.each([
    ['__proto__ at the top', `{"__proto__":{"polluted":true},"model":"m",${MESSAGES}}`],
    ['__proto__ escaped', `{"\\u005f_proto__":{"polluted":true},"model":"m",${MESSAGES}}`],
    [
      'constructor.prototype',
      `{"constructor":{"prototype":{"polluted":true}},"model":"m",${MESSAGES}}`,
    ],
    [
      'both, deep in an unknown field',
      `{"model":"m",${MESSAGES},"x":[{"a":{"__proto__":{"p":1},"constructor":{"prototype":{"p":1}},"b":2}}]}`,
    ],
  ])('%s: served with the prototype keys removed', async (_name, text) => {
    const outcome = await send(CHAT, text);
    expect(outcome).toMatchObject({ status: 200, called: true });
    const request = lastRequest();
    expect(Object.hasOwn(request, '__proto__')).toBe(false);
    expect(Object.hasOwn(request, 'constructor')).toBe(false);
    expect(Object.getPrototypeOf(request)).toBe(Object.prototype);
    if (request.x !== undefined) expect(request.x).toEqual([{ a: { b: 2 } }]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  it('keeps properties merely named constructor or prototype, and plain constructor values', async () => {
    const parameters = {
      type: 'object',
      properties: { constructor: { type: 'string' }, prototype: { type: 'object' } },
      required: ['constructor', 'prototype'],
    };
    const body = chatBody({
      tools: [{ type: 'function', function: { name: 'f', parameters } }],
      metadata: { constructor: 'kept', prototype: { constructor: 1 } },
    });
    expect(await send(CHAT, JSON.stringify(body))).toMatchObject({ status: 200, called: true });
    const request = lastRequest() as unknown as ChatRequest & { metadata: unknown };
    expect(request.tools?.[0]?.function.parameters).toEqual(parameters);
    expect(request.metadata).toEqual({ constructor: 'kept', prototype: { constructor: 1 } });
  });

  it('a compressed body says so, not that it is not JSON', async () => {
    const outcome = await send(CHAT, VALID, { ...JSON_HEADERS, 'content-encoding': 'gzip' });
    expectRefused(outcome, 400, 'unsupported_content_encoding');
    expect(outcome.body).toContain('Content-Encoding');
    const identity = await send(CHAT, VALID, { ...JSON_HEADERS, 'content-encoding': 'identity' });
    expect(identity).toMatchObject({ status: 200, called: true });
  });
});

describe('control characters in model and provider names → 400 before any upstream', () => {
  const HOSTILE = [
    'llama3.2\u0000',
    'a\r\nx-injected: 1',
    '\u001b[31mred',
    'm\u007f',
    'ollama/m\n',
    '\t',
  ];
  const chat = (model: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ model, messages: [user('x')], ...extra });
  const embed = (model: string) => JSON.stringify({ model, input: 'x' });
  const ROUTES: readonly (readonly [string, (model: string) => string])[] = [
    [CHAT, (model) => chat(model)],
    [CHAT, (model) => chat(model, { stream: true })],
    ['/cerebras/v1/chat/completions', (model) => chat(model)],
    ['/ollama/v1/chat/completions', (model) => chat(model, { stream: true })],
    [EMBEDDINGS, embed],
    ['/cerebras/v1/embeddings', embed],
  ];
  it.each(
    HOSTILE.flatMap((model) =>
      ROUTES.map(([url, body]) => [JSON.stringify(model), url, body(model)]),
    ),
  )('model %s on %s', async (_model, url, text) => {
    const outcome = await send(url, text);
    expectRefused(outcome, 400, 'invalid_model_name', 'model');
    expect(outcome.body).toMatch(
      /'model' contains the control character U\+00[0-7][0-9A-F] at position \d+/,
    );
  });

  it('names the character and its position, and comes before the schema', async () => {
    const outcome = await send(CHAT, JSON.stringify({ model: 'gpt\u007f4' }));
    expectRefused(outcome, 400, 'invalid_model_name', 'model');
    expect(outcome.body).toContain('U+007F at position 3');
  });

  it.each([
    ['/ollama/api/chat', { model: 'llama3.2\u0000', messages: [] }, 'model'],
    ['/ollama/api/generate', { model: 'x\r\n', prompt: 'hi' }, 'model'],
    ['/ollama/api/show', { name: 'x\u007f' }, 'name'],
    ['/ollama/api/copy', { source: 'a', destination: 'b\u0000' }, 'destination'],
    ['/ollama/api/create', { model: 'a', from: '\u0007b' }, 'from'],
  ])("native API %s → 400 in Ollama's shape, nothing relayed", async (url, body, field) => {
    const outcome = await send(url, JSON.stringify(body));
    expect(outcome).toMatchObject({ status: 400, called: false });
    const { error } = JSON.parse(outcome.body) as { error: string };
    expect(error).toContain(`'${field}' contains the control character`);
  });

  it.each(['/ollama/api/blobs/sha256%0Ax', '/ollama/api/blobs/%7f'])(
    'native API path %s → 400, nothing relayed (it would be the upstream path)',
    async (url) => {
      const outcome = await send(url, '{}');
      expect(outcome).toMatchObject({ status: 400, called: false });
      expect(JSON.parse(outcome.body)).toEqual({
        error: expect.stringMatching(
          /^The request path contains the control character U\+00(0A|7F)/,
        ),
      });
    },
  );

  it.each([
    ['POST', '/x%00/v1/chat/completions'],
    ['POST', '/x%0d%0a/v1/embeddings'],
    ['GET', '/%7f/v1/models'],
    ['POST', '/ollama%0a/v1/chat/completions'],
  ])('provider segment of %s %s → 400 naming it', async (method, url) => {
    const before = providerCalls();
    const response = await app.inject({
      method: method as 'GET' | 'POST',
      url,
      headers: JSON_HEADERS,
      ...(method === 'POST' ? { payload: VALID } : {}),
    });
    const called = providerCalls() > before;
    expectRefused(
      { status: response.statusCode, body: response.body, called },
      400,
      'invalid_model_name',
      'model',
    );
    expect(response.body).toContain('The provider name in the URL contains the control character');
  });

  it('serves names with other unusual characters (no control among them)', async () => {
    for (const model of ['modèle', 'm\u0085', 'a\u2028b', 'x y', '\u00a0']) {
      expect(await send(CHAT, chat(model))).toMatchObject({ status: 200, called: true });
    }
    const copy = await send(
      '/ollama/api/copy',
      JSON.stringify({ source: 'a b', destination: 'é' }),
    );
    expect(copy).toMatchObject({ status: 200, called: true });
    expect(relayed.at(-1)?.body).toBe('{"source":"a b","destination":"é"}');
  });
});

describe('wrong types, missing and extra fields → 422 naming the field', () => {
  const CASES: readonly (readonly [string, unknown, string])[] = [
    [CHAT, null, ''],
    [CHAT, [], ''],
    [CHAT, 'x', ''],
    [CHAT, 42, ''],
    [CHAT, {}, 'model'],
    [CHAT, { model: 'm' }, 'messages'],
    [CHAT, { messages: [user('x')] }, 'model'],
    [CHAT, chatBody({ model: 1 }), 'model'],
    [CHAT, chatBody({ model: null }), 'model'],
    [CHAT, chatBody({ model: ['m'] }), 'model'],
    [CHAT, chatBody({ messages: 'hi' }), 'messages'],
    [CHAT, chatBody({ messages: {} }), 'messages'],
    [CHAT, chatBody({ messages: [null] }), 'messages[0]'],
    [CHAT, chatBody({ messages: [[]] }), 'messages[0]'],
    [CHAT, chatBody({ messages: [{ role: 1 }] }), 'messages[0].role'],
    [CHAT, chatBody({ messages: [user(1)] }), 'messages[0].content'],
    [CHAT, chatBody({ messages: [user([1])] }), 'messages[0].content'],
    [CHAT, chatBody({ messages: [user([{ text: 'x' }])] }), 'messages[0].content'],
    [CHAT, chatBody({ stream: 'true' }), 'stream'],
    [CHAT, chatBody({ stream: 1 }), 'stream'],
    [CHAT, chatBody({ temperature: '1' }), 'temperature'],
    [CHAT, chatBody({ max_tokens: 1.5 }), 'max_tokens'],
    [CHAT, chatBody({ max_tokens: -1 }), 'max_tokens'],
    [CHAT, chatBody({ stop: [1] }), 'stop'],
    [CHAT, chatBody({ tools: {} }), 'tools'],
    [CHAT, chatBody({ tools: [{ type: 'function' }] }), 'tools[0].function'],
    [CHAT, chatBody({ logit_bias: { a: 'x' } }), 'logit_bias.a'],
    [CHAT, chatBody({ response_format: { type: 'xml' } }), 'response_format.type'],
    [CHAT, chatBody({ user: {} }), 'user'],
    [EMBEDDINGS, {}, 'model'],
    [EMBEDDINGS, { model: 'e' }, 'input'],
    [EMBEDDINGS, { model: 'e', input: null }, 'input'],
    [EMBEDDINGS, { model: 'e', input: [] }, 'input'],
    [EMBEDDINGS, { model: 'e', input: ['a', 1] }, 'input'],
    [EMBEDDINGS, { model: 'e', input: [1.5] }, 'input'],
    [EMBEDDINGS, { model: 'e', input: 'x', dimensions: 0 }, 'dimensions'],
    [EMBEDDINGS, { model: 'e', input: 'x', encoding_format: 'hex' }, 'encoding_format'],
  ];
  it.each(CASES.map(([url, body, param]) => [url, JSON.stringify(body), param]))(
    '%s %s → %s',
    async (url, text, param) => {
      const outcome = await send(url, text);
      expectRefused(outcome, 422, 'validation_error');
      const { error } = JSON.parse(outcome.body) as { error: { param: string | null } };
      // The envelope names the field (the message names it when Ajv reports a parent).
      expect(error.param ?? '').toBe(param);
    },
  );

  it('passes unknown fields through, even ones that look like upstream overrides', async () => {
    const body = chatBody({ api_base: 'http://evil.test', base_url: 'http://evil.test', x: [1] });
    const outcome = await send('/cerebras/v1/chat/completions', JSON.stringify(body));
    expect(outcome).toMatchObject({ status: 200, called: true });
  });
});

describe('size limits', () => {
  it('413 for a body over the limit, 422 for arrays over their caps', async () => {
    const huge = chatBody({ messages: [user('x'.repeat(LIMIT))] });
    expectRefused(await send(CHAT, JSON.stringify(huge)), 413, 'request_too_large');
    const caps: readonly (readonly [string, Record<string, unknown>, string])[] = [
      [CHAT, chatBody({ messages: Array.from({ length: 4097 }, () => user('')) }), 'messages'],
      [CHAT, chatBody({ messages: [user(Array(1025).fill({ type: 'text', text: '' }))] }), ''],
      [CHAT, chatBody({ stop: Array(17).fill('x') }), 'stop'],
      [CHAT, chatBody({ model: 'm'.repeat(257) }), 'model'],
      [CHAT, chatBody({ user: 'u'.repeat(257) }), 'user'],
      [EMBEDDINGS, { model: 'e', input: Array(2049).fill('x') }, 'input'],
      [EMBEDDINGS, { model: 'e', input: Array(65_537).fill(1) }, 'input'],
    ];
    for (const [url, body] of caps)
      expectRefused(await send(url, JSON.stringify(body)), 422, 'validation_error');
  });

  it('serves long strings and arrays that are within the caps', async () => {
    const long = chatBody({ messages: [user('é'.repeat(LIMIT / 4))], stop: Array(16).fill('x') });
    expect(await send(CHAT, JSON.stringify(long))).toMatchObject({ status: 200, called: true });
    const many = chatBody({ messages: Array.from({ length: 4096 }, () => user('')) });
    expect(await send(CHAT, JSON.stringify(many))).toMatchObject({ status: 200, called: true });
  });
});

describe('deep nesting → 400 json_too_deep past 100 levels, known or unknown field', () => {
  const bodies = {
    'unknown field, objects': `{"model":"m","messages":[],"x":${nest(101, '{"a":', '}')}}`,
    'unknown field, arrays': `{"model":"m","messages":[],"x":${nest(101, '[', ']')}}`,
    'in content': `{"model":"m","messages":[{"role":"user","content":${nest(99, '[', ']')}}]}`,
    'in tool parameters': `{"model":"m","messages":[],"tools":[{"type":"function","function":{"name":"f","parameters":${nest(97, '{"a":', '}')}}}]}`,
    'before the body is even valid': nest(20_000, '[', ''),
  };
  it.each(Object.entries(bodies))('%s', async (_name, text) => {
    expectRefused(await send(CHAT, text), 400, 'json_too_deep');
  });

  it('serves nesting at the limit and brackets inside strings', async () => {
    const atLimit = `{"model":"m","messages":[{"role":"user","content":"x"}],"x":${nest(99, '[', ']')}}`;
    expect(await send(CHAT, atLimit)).toMatchObject({ status: 200, called: true });
    const inString = JSON.stringify(chatBody({ messages: [user('['.repeat(10_000))] }));
    expect(await send(CHAT, inString)).toMatchObject({ status: 200, called: true });
  });
});

describe('Unicode edge cases', () => {
  const ESCAPED: Readonly<Record<string, string>> = {
    'lone high surrogate': '\\ud800',
    'lone low surrogate': '\\udfff',
    'reversed pair': '\\udc00\\ud800',
    NUL: '\\u0000',
    BOM: '\\ufeff',
    'RTL override': '\\u202e',
    'line separator': '\\u2028',
    noncharacter: '\\uffff',
    'astral + combining': '\u{1F600}e\u0301',
  };
  it.each(Object.entries(ESCAPED))('%s in content is served as sent', async (_name, escaped) => {
    const text = `{"model":"m","messages":[{"role":"user","content":"a${escaped}b"}]}`;
    expect(await send(CHAT, text)).toMatchObject({ status: 200, called: true });
    const request = providers[0]?.calls.at(-1)?.request as ChatRequest | undefined;
    expect(request?.messages[0]?.content).toBe(JSON.parse(`"a${escaped}b"`));
  });

  it('a BOM before the body, invalid UTF-8 inside and outside strings: never a 5xx', async () => {
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((part) => Buffer.from(part as string)));
    const bodies = [
      bytes([0xef, 0xbb, 0xbf], VALID),
      bytes('{"model":"m","messages":[{"role":"user","content":"', [0xff, 0xfe], '"}]}'),
      bytes('{"model":"m","messages":[{"role":"user","content":"', [0xed, 0xa0, 0x80], '"}]}'),
      bytes('{"model":"m","messages":[{"role":"user","content":"', [0xc0, 0xaf], '"}]}'),
      bytes('{"model":"m",', [0xff], '"messages":[]}'),
    ];
    const statuses = [];
    for (const body of bodies) {
      const outcome = await send(CHAT, body);
      statuses.push(outcome.status);
      expect(outcome.called).toBe(outcome.status === 200);
      if (outcome.status !== 200) expectRefused(outcome, 400, 'invalid_json');
    }
    expect(statuses).toEqual([200, 200, 200, 200, 400]);
  });

  // The deployment header carries the client's model name: Node refuses header values outside
  // visible ASCII (ERR_INVALID_CHAR), so such names must be encoded, never crash the response.
  const UNSAFE_MODELS = ['m\\ud800', 'm\\u0085', 'gpt\\u200f', '\u6a21\u578b'];
  const KINDS = {
    chat: [
      CHAT,
      (model: string) => `{"model":"${model}","messages":[{"role":"user","content":"x"}]}`,
    ],
    stream: [
      CHAT,
      (model: string) =>
        `{"model":"${model}","stream":true,"messages":[{"role":"user","content":"x"}]}`,
    ],
    embeddings: [EMBEDDINGS, (model: string) => `{"model":"${model}","input":"x"}`],
  } as const;
  for (const model of UNSAFE_MODELS) {
    for (const [kind, [url, body]] of Object.entries(KINDS)) {
      it(`model "${model}" (${kind}) → an answer, not a 5xx or a hang`, async () => {
        const answered = app.inject({
          method: 'POST',
          url,
          headers: JSON_HEADERS,
          payload: body(model),
        });
        const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, 300, undefined));
        const response = await Promise.race([answered, timeout]);
        expect(response?.statusCode).toBe(200);
        expect(String(response?.headers['x-aigw-deployment'])).toMatch(/^[\x21-\x7e]+$/);
        if (kind === 'stream') expect(response?.body.endsWith('data: [DONE]\n\n')).toBe(true);
        else expect(JSON.parse(response?.body ?? '')).toHaveProperty('object');
      });
    }
  }
});

describe('header abuse', () => {
  const CONTENT_TYPES: readonly (readonly [string | undefined, number])[] = [
    ['application/json; charset=utf-8', 200],
    ['APPLICATION/JSON', 200],
    ['application/json;;;=;', 200],
    ['application/json; charset="utf-8"; foo="a;b"', 200],
    ['application/json, text/plain', 400],
    ['application/jsonx', 400],
    ['application/vnd.api+json', 400],
    ['application/x-www-form-urlencoded', 400],
    ['multipart/form-data; boundary=x', 400],
    ['', 400],
    [undefined, 400],
    // Fastify's own text/plain parser yields a string, which the schema refuses.
    ['text/plain', 422],
  ];
  it.each(CONTENT_TYPES)('content-type %j → %i', async (contentType, status) => {
    const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const outcome = await send(CHAT, VALID, headers);
    const code = status === 400 ? 'unsupported_media_type' : 'validation_error';
    if (status === 200) expect(outcome).toMatchObject({ status, called: true });
    else expectRefused(outcome, status, code);
  });
});

describe('on a loopback socket: what only real HTTP can show', () => {
  let port: number;
  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  const JSON_TYPE = 'Content-Type: application/json';
  const LENGTH = `Content-Length: ${VALID.length}`;
  const CHUNKED = 'Transfer-Encoding: chunked';
  /** A POST with these framing headers, then `body` as written. */
  const raw = (lines: readonly string[], body = '') =>
    `POST ${CHAT} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
  const chunked = (text: string) =>
    `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`;

  it('413 as soon as a truthful Content-Length is over the limit, before any body byte', async () => {
    const connection = await RawConnection.open(port);
    try {
      const before = providerCalls();
      const answered = connection.exchange(raw([JSON_TYPE, 'Content-Length: 50000000']));
      const timeout = new Promise<undefined>((resolve) => setTimeout(resolve, 1_000, undefined));
      const response = await Promise.race([answered, timeout]);
      expect(response?.status).toBe(413);
      const body = JSON.parse(response?.body ?? '') as unknown;
      expect(body).toMatchObject({ error: { code: 'request_too_large' } });
      expect(providerCalls()).toBe(before);
    } finally {
      connection.close();
    }
  });

  it('chunked bodies (no Content-Length): 413 past the limit, served under it', async () => {
    const huge = JSON.stringify(chatBody({ messages: [user('x'.repeat(LIMIT))] }));
    expect((await exchangeOnce(port, raw([JSON_TYPE, CHUNKED], chunked(huge)))).status).toBe(413);
    expect((await exchangeOnce(port, raw([JSON_TYPE, CHUNKED], chunked(VALID)))).status).toBe(200);
  });

  it('refuses ambiguous framing and duplicate headers without a 5xx or a provider call', async () => {
    const before = providerCalls();
    const cases = {
      'Content-Length shorter than the body': raw([JSON_TYPE, 'Content-Length: 10'], VALID),
      'Content-Length and Transfer-Encoding': raw([JSON_TYPE, LENGTH, CHUNKED], chunked(VALID)),
      'two Content-Length values': raw([JSON_TYPE, LENGTH, 'Content-Length: 5'], VALID),
      'text/plain first of two Content-Types': raw(
        ['Content-Type: text/plain', JSON_TYPE, LENGTH],
        VALID,
      ),
    };
    const statuses: Record<string, number> = {};
    for (const [name, bytes] of Object.entries(cases)) {
      statuses[name] = (await exchangeOnce(port, bytes)).status;
    }
    expect(statuses).toEqual({
      'Content-Length shorter than the body': 400,
      'Content-Length and Transfer-Encoding': 400,
      'two Content-Length values': 400,
      // Node keeps the first Content-Type; Fastify's text parser yields a string; 422.
      'text/plain first of two Content-Types': 422,
    });
    expect(providerCalls()).toBe(before);
    const jsonFirst = raw([JSON_TYPE, 'Content-Type: text/plain', LENGTH], VALID);
    expect((await exchangeOnce(port, jsonFirst)).status).toBe(200);
  });
});
