/**
 * Prototype keys over the wire: a body holding `__proto__` or `constructor.prototype` is served
 * with those keys removed, and what reaches each upstream (OpenAI-compatible relayed, Ollama
 * translated, Ollama's native API passed through) has none of them, while a tool's JSON schema
 * with properties named `constructor` and `prototype` arrives intact.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';

const gateway = useGateway();

const parameters = {
  type: 'object',
  properties: {
    constructor: { type: 'string', description: 'a class name' },
    prototype: { type: 'object', properties: { constructor: { type: 'boolean' } } },
  },
  required: ['constructor', 'prototype'],
};
const tools = [{ type: 'function', function: { name: 'define_class', parameters } }];
const schema = { name: 'shape', schema: parameters };

/** The body as a client writes it: JSON text, since an object literal cannot hold `__proto__`. */
const body = (model: string, extra = '') =>
  `{"__proto__":{"polluted":"top"},"model":"${model}","messages":[{"role":"user","content":"hi","constructor":{"prototype":{"polluted":"message"}}}],"tools":${JSON.stringify(tools)}${extra}}`;

async function post(path: string, text: string): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
    body: text,
  });
}

/** The one request the upstream got, as text (its keys exactly as sent) and parsed. */
function upstreamBody(): { text: string; json: Record<string, unknown> } {
  const [request] = gateway.upstream.requests;
  expect(gateway.upstream.requests).toHaveLength(1);
  return { text: request?.body ?? '', json: request?.json as Record<string, unknown> };
}

function expectNoPrototypeKeys(text: string): void {
  expect(text).not.toContain('__proto__');
  expect(text).not.toContain('polluted');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

describe('a body with prototype keys', () => {
  it.each([
    ['OpenAI-compatible, pinned', '/cerebras/v1/chat/completions', 'llama-3.3-70b'],
    ['OpenAI-compatible, routed by provider/model', '/v1/chat/completions', 'cerebras/llama'],
  ])('%s: relayed without them, the tool schema intact', async (_name, path, model) => {
    const response = await post(
      path,
      body(
        model,
        `,"response_format":{"type":"json_schema","json_schema":${JSON.stringify(schema)}}`,
      ),
    );
    expect(response.status).toBe(200);
    const { text, json } = upstreamBody();
    expectNoPrototypeKeys(text);
    expect(json.tools).toEqual(tools);
    expect(json.response_format).toEqual({ type: 'json_schema', json_schema: schema });
    expect(json.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it.each([
    ['Ollama, pinned', '/ollama/v1/chat/completions'],
    ['Ollama, the default provider', '/v1/chat/completions'],
  ])('%s: translated without them, the tool schema intact', async (_name, path) => {
    const response = await post(
      path,
      body(
        'llama3.2',
        `,"response_format":{"type":"json_schema","json_schema":${JSON.stringify(schema)}}`,
      ),
    );
    expect(response.status).toBe(200);
    const { text, json } = upstreamBody();
    expect(gateway.upstream.requests[0]?.path).toBe('/api/chat');
    expectNoPrototypeKeys(text);
    expect(json.tools).toEqual([
      { type: 'function', function: { name: 'define_class', parameters } },
    ]);
    expect(json.format).toEqual(parameters);
  });

  it("Ollama's native API: passed through without them, the tool schema intact", async () => {
    const response = await post('/ollama/api/chat', body('llama3.2', ',"stream":false'));
    expect(response.status).toBe(200);
    const { text, json } = upstreamBody();
    expectNoPrototypeKeys(text);
    expect(json.tools).toEqual(tools);
    expect(json.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('an escaped __proto__ key is removed too', async () => {
    const text = body('cerebras/llama').replace(
      '"__proto__"',
      '"\\u005f\\u005fproto\\u005f\\u005f"',
    );
    expect((await post('/v1/chat/completions', text)).status).toBe(200);
    expectNoPrototypeKeys(upstreamBody().text);
  });
});
