import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import type { ChatCompletionChunk, ChatRequest } from '../../openai/chat-types.js';
import type { CallContext, ChatStream, StreamChunk } from '../provider.js';
import type {
  UpstreamClient,
  UpstreamRequestOptions,
  UpstreamResponse,
} from '../shared/upstream-client.js';
import { createOpenAiCompatibleProvider } from './openai-compatible-provider.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const request: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

function ctx(): CallContext {
  return { signal: new AbortController().signal, requestId: 'req-1', logger };
}

function stubUpstream(status: number, body: string | string[], headers = {}) {
  const sent: UpstreamRequestOptions[] = [];
  let destroyed = false;
  const parts = Array.isArray(body) ? body : [body];
  const upstream: UpstreamClient = {
    provider: 'vendor',
    async request(options) {
      sent.push(options);
      const stream = Readable.from(parts.map((part) => Buffer.from(part)));
      stream.on('close', () => {
        destroyed = true;
      });
      return { status, headers, body: stream as unknown as UpstreamResponse['body'] };
    },
    async requestText(options) {
      sent.push(options);
      return { status, headers, text: parts.join('') };
    },
    async close() {},
  };
  return { upstream, sent, wasDestroyed: () => destroyed };
}

function provider(upstream: UpstreamClient, secrets: string[] = []) {
  return createOpenAiCompatibleProvider(
    { name: 'vendor', secrets },
    { upstream, now: () => 0, generateId: () => 'id' },
  );
}

async function batches(stream: ChatStream) {
  const items: (readonly StreamChunk[])[] = [];
  for await (const batch of stream) items.push(batch);
  return items;
}

async function collect(stream: ChatStream): Promise<ChatCompletionChunk[]> {
  return (await batches(stream)).flat().map((item) => item.chunk);
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(GatewayError);
  return error as GatewayError;
}

const chunk = (content: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    ...extra,
  });

describe('openai-compatible provider', () => {
  it('relays a completion with vendor extras and forwards the request id', async () => {
    const completion = {
      id: 'c1',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'yo' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      time_info: { total_time: 0.01 },
    };
    const { upstream, sent } = stubUpstream(200, JSON.stringify(completion));
    const result = await provider(upstream).chat(
      { ...request, stream_options: { include_usage: true } },
      ctx(),
    );
    expect(result).toEqual(completion);
    expect(sent[0]).toMatchObject({
      method: 'POST',
      path: '/chat/completions',
      requestId: 'req-1',
    });
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({ ...request, stream: false });
  });

  it('maps garbage bodies to 502', async () => {
    for (const body of ['<html>oops</html>', '{"choices":"no"}', '{"id":']) {
      const { upstream } = stubUpstream(200, body);
      const error = await failure(provider(upstream).chat(request, ctx()));
      expect(error.status).toBe(502);
      expect(error.code).toBe('upstream_error');
    }
  });

  it.each([
    [429, { 'retry-after': '3' }, 429, 'upstream_rate_limited'],
    [401, {}, 502, 'upstream_error'],
    [403, {}, 502, 'upstream_error'],
    [404, {}, 404, 'model_not_found'],
    [400, {}, 400, 'upstream_bad_request'],
    [500, {}, 502, 'upstream_error'],
    [503, {}, 503, 'upstream_unavailable'],
    [302, { location: 'http://elsewhere' }, 502, 'upstream_error'],
  ])('maps upstream %i to %i %s', async (status, headers, expected, code) => {
    const body = JSON.stringify({ error: { message: 'Invalid key sk-live-secret123456' } });
    const { upstream } = stubUpstream(status, body, headers);
    const error = await failure(provider(upstream).chat(request, ctx()));
    expect(error.status).toBe(expected);
    expect(error.code).toBe(code);
    expect(error.message).not.toContain('sk-live');
    if (status === 429) expect(error.retryAfter).toBe('3');
  });

  it.each([
    [429, 'refused'],
    [503, 'refused'],
    [401, 'refused'],
    [500, 'failed'],
    [502, 'failed'],
  ])('marks upstream %i as %s for retry decisions', async (status, expected) => {
    const { upstream } = stubUpstream(status, '{}');
    expect((await failure(provider(upstream).chat(request, ctx()))).upstreamFailure).toBe(expected);
  });

  it('relays a bad-request message scrubbed of the provider key', async () => {
    const body = JSON.stringify({
      error: { message: 'temperature too high for key csk-provider' },
    });
    const { upstream } = stubUpstream(400, body);
    const error = await failure(provider(upstream, ['csk-provider']).chat(request, ctx()));
    expect(error.message).toBe(
      'The vendor upstream rejected the request: temperature too high for key [REDACTED]',
    );
  });

  it('converts retry-after-ms to seconds', async () => {
    const { upstream } = stubUpstream(429, '{}', { 'retry-after-ms': '1500' });
    const error = await failure(provider(upstream).chat(request, ctx()));
    expect(error.retryAfter).toBe('2');
  });

  it('always asks upstream for usage when streaming and moves usage to one final chunk', async () => {
    const { upstream, sent } = stubUpstream(200, [
      `data: ${chunk('a')}\n\n`,
      `data: ${chunk('b', { usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } })}\n\n`,
      'data: [DONE]\n\n',
    ]);
    const chunks = await collect(await provider(upstream).chatStream(request, ctx()));
    expect(JSON.parse(sent[0]?.body ?? '')).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(chunks.map((item) => item.choices.length)).toEqual([1, 1, 0]);
    expect(chunks[1]?.usage).toBeUndefined();
    expect(chunks[2]?.usage).toEqual({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 });
  });

  it('keeps a separate usage chunk last and unique', async () => {
    const usageChunk = JSON.stringify({
      id: 'c1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      time_info: { total_time: 1 },
    });
    const { upstream } = stubUpstream(200, [
      `data: ${chunk('a', { usage: null })}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`,
    ]);
    const chunks = await collect(await provider(upstream).chatStream(request, ctx()));
    expect(chunks).toHaveLength(2);
    expect(chunks[1]).toEqual(JSON.parse(usageChunk));
  });

  it("yields each read's chunks as one batch, with the upstream's text of unchanged chunks", async () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    const { upstream } = stubUpstream(200, [
      `data: ${chunk('a')}\n\ndata: ${chunk('b', { x_vendor: { b: 1, a: 2 } })}\n\n`,
      // One event over two data lines: valid JSON, but its text would break SSE framing.
      `data: ${chunk('c')}\n\ndata: {"id":"c1","choices":[]\ndata: ,"usage":null}\n\n`,
      `data: ${chunk('d', { usage })}\n\ndata: [DONE]\n\n`,
    ]);
    const got = await batches(await provider(upstream).chatStream(request, ctx()));
    expect(got.map((batch) => batch.length)).toEqual([2, 2, 1, 1]);
    const [first, second, third, last] = got;
    expect(first?.map((item) => item.json)).toEqual([
      chunk('a'),
      chunk('b', { x_vendor: { b: 1, a: 2 } }),
    ]);
    expect(second?.map((item) => item.json)).toEqual([chunk('c'), undefined]);
    expect(second?.[1]?.chunk).toEqual({ id: 'c1', choices: [], usage: null });
    // Usage moved off the content chunk: both changed, neither keeps the upstream's text.
    expect(third?.[0]).toEqual({ chunk: JSON.parse(chunk('d')), json: undefined });
    expect(last?.[0]?.json).toBeUndefined();
    expect(last?.[0]?.chunk).toMatchObject({ choices: [], usage });
  });

  it('yields the chunks before a broken event of the same read, then fails', async () => {
    const { upstream } = stubUpstream(200, [
      `data: ${chunk('a')}\n\ndata: ${chunk('b')}\n\ndata: {not json\n\ndata: ${chunk('c')}\n\n`,
    ]);
    const stream = await provider(upstream).chatStream(request, ctx());
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const batch of stream) for (const item of batch) seen.push(item.json ?? '');
      })(),
    );
    expect(seen).toEqual([chunk('a'), chunk('b')]);
    expect(error.message).toMatch(/not JSON/);
  });

  it('fails a stream that ends without [DONE]', async () => {
    const { upstream } = stubUpstream(200, [`data: ${chunk('a')}\n\n`]);
    const stream = await provider(upstream).chatStream(request, ctx());
    const error = await failure(collect(stream));
    expect(error.code).toBe('upstream_error');
    expect(error.message).toMatch(/ended before it was complete/);
  });

  it('fails on an in-stream error event, scrubbed', async () => {
    const { upstream } = stubUpstream(200, [
      `data: ${chunk('a')}\n\n`,
      'data: {"error":{"message":"overloaded, key sk-abcdefghijkl"}}\n\n',
    ]);
    const stream = await provider(upstream).chatStream(request, ctx());
    const error = await failure(collect(stream));
    expect(error.message).toContain('overloaded');
    expect(error.message).not.toContain('sk-abc');
  });

  it('fails on a chunk that is not JSON or not a chunk', async () => {
    for (const data of ['{not json', '{"object":"x"}']) {
      const { upstream } = stubUpstream(200, [`data: ${data}\n\n`]);
      const stream = await provider(upstream).chatStream(request, ctx());
      expect((await failure(collect(stream))).status).toBe(502);
    }
  });

  it('releases the upstream body when the consumer stops early', async () => {
    const { upstream, wasDestroyed } = stubUpstream(200, [
      `data: ${chunk('a')}\n\n`,
      `data: ${chunk('b')}\n\n`,
      'data: [DONE]\n\n',
    ]);
    const stream = await provider(upstream).chatStream(request, ctx());
    for await (const _item of stream) break;
    await new Promise((resolve) => setImmediate(resolve));
    expect(wasDestroyed()).toBe(true);
  });

  it('lists models, filling gaps', async () => {
    const { upstream, sent } = stubUpstream(
      200,
      JSON.stringify({
        object: 'list',
        data: [{ id: 'a', created: 5, owned_by: 'x' }, { id: 'b' }, 7],
      }),
    );
    expect(await provider(upstream).listModels(ctx())).toEqual([
      { id: 'a', object: 'model', created: 5, owned_by: 'x' },
      { id: 'b', object: 'model', created: 0, owned_by: 'vendor' },
    ]);
    expect(sent[0]).toMatchObject({ method: 'GET', path: '/models' });
  });

  it('fails a model list that is not a list', async () => {
    const { upstream } = stubUpstream(200, '{"models":[]}');
    expect((await failure(provider(upstream).listModels(ctx()))).status).toBe(502);
    const { upstream: down } = stubUpstream(500, 'boom');
    expect((await failure(provider(down).listModels(ctx()))).status).toBe(502);
  });
});

describe('openai-compatible embeddings', () => {
  const request = { model: 'e', input: 'hi' };
  /** Its embeddings, read as an optional method (a chat-only vendor has none). */
  const embed = (upstream: UpstreamClient) => {
    const { embeddings } = provider(upstream);
    if (embeddings === undefined) throw new Error('an OpenAI-compatible provider has embeddings');
    return embeddings(request, ctx());
  };

  it('relays the request and returns the upstream body', async () => {
    const body = {
      object: 'list',
      data: [{ object: 'embedding', index: 0, embedding: [1] }],
      model: 'e',
      usage: { prompt_tokens: 1, total_tokens: 1 },
    };
    const { upstream, sent } = stubUpstream(200, JSON.stringify(body));
    expect(await embed(upstream)).toEqual(body);
    expect(sent[0]).toMatchObject({ method: 'POST', path: '/embeddings' });
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual(request);
  });

  it('maps garbage to 502 and upstream statuses like chat', async () => {
    const { upstream } = stubUpstream(200, '{"object":"list"}');
    expect((await failure(embed(upstream))).status).toBe(502);
    const { upstream: missing } = stubUpstream(404, '{}');
    expect((await failure(embed(missing))).code).toBe('model_not_found');
  });
});
