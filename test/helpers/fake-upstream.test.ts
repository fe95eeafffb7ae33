import { once } from 'node:events';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, type FakeUpstreamOptions, startFakeUpstream } from './fake-upstream.js';
import {
  DEFAULT_REPLY,
  DEFAULT_TOOL_ARGUMENTS,
  ollamaNdjsonLines,
  openAiSseEvents,
  SSE_DONE,
  sseResponse,
} from './fake-upstream-wire.js';
import { waitUntil } from './sse-client.js';

// A dispatcher per test, so no keep-alive socket outlives the test that opened it.
let upstream: FakeUpstream | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await upstream?.close();
  await agent?.destroy();
  upstream = undefined;
  agent = undefined;
});

async function start(options?: FakeUpstreamOptions): Promise<FakeUpstream> {
  upstream = await startFakeUpstream(options);
  agent = new Agent();
  return upstream;
}

function call(
  path: string,
  options: { method?: Dispatcher.HttpMethod; json?: unknown; signal?: AbortSignal } = {},
): Promise<Dispatcher.ResponseData> {
  if (upstream === undefined || agent === undefined) throw new Error('start() first');
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  return request(`${upstream.url}${path}`, {
    method: options.method ?? (body === undefined ? 'GET' : 'POST'),
    dispatcher: agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer upstream-key' },
    ...(body === undefined ? {} : { body }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

type Json = Record<string, unknown> & { choices?: Array<Record<string, unknown>> };

/** The `data:` payloads of an SSE body, `[DONE]` kept as a string. */
function sseData(text: string): Array<Json | '[DONE]'> {
  return text
    .split('\n\n')
    .filter((event) => event !== '')
    .map((event) => {
      const data = event.replace(/^data: /, '');
      return data === '[DONE]' ? '[DONE]' : (JSON.parse(data) as Json);
    });
}

const messages = [{ role: 'user', content: 'Say hello' }];
const weatherTools = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
];
const weatherMessages = [{ role: 'user', content: 'What is the weather in Paris?' }];

describe('fake upstream defaults: OpenAI-compatible', () => {
  it('answers a chat completion with JSON echoing the model, and records the request', async () => {
    const fake = await start();
    const response = await call('/v1/chat/completions?x=1', {
      json: { model: 'llama-3.3-70b', messages },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    const body = (await response.body.json()) as Json;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'llama-3.3-70b',
      choices: [{ message: { role: 'assistant', content: DEFAULT_REPLY }, finish_reason: 'stop' }],
      usage: { prompt_tokens_details: { cached_tokens: 0 } },
      time_info: { total_time: expect.any(Number) },
    });
    const usage = body.usage as Record<string, number>;
    expect(usage.total_tokens).toBe((usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0));

    expect(fake.requests).toHaveLength(1);
    const recorded = fake.requests[0];
    expect(recorded?.method).toBe('POST');
    expect(recorded?.path).toBe('/v1/chat/completions?x=1');
    expect(recorded?.headers.authorization).toBe('Bearer upstream-key');
    expect(recorded?.json).toEqual({ model: 'llama-3.3-70b', messages });
    expect(recorded?.body).toBe(JSON.stringify({ model: 'llama-3.3-70b', messages }));
    expect(recorded?.aborted).toBe(false);
  });

  it('streams SSE chunks ending in [DONE], without a usage chunk unless asked', async () => {
    await start();
    const response = await call('/v1/chat/completions', {
      json: { model: 'm', messages, stream: true },
    });
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = sseData(await response.body.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.filter((event): event is Json => event !== '[DONE]');
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices?.[0]?.delta).toMatchObject({ role: 'assistant' });
    const text = chunks.map((chunk) => (chunk.choices?.[0]?.delta as Json)?.content ?? '').join('');
    expect(text).toBe(DEFAULT_REPLY);
    expect(chunks.at(-1)?.choices?.[0]?.finish_reason).toBe('stop');
    expect(chunks.some((chunk) => chunk.choices?.length === 0 || 'usage' in chunk)).toBe(false);
  });

  it('adds exactly one usage chunk with choices: [] before [DONE] when include_usage', async () => {
    await start();
    const response = await call('/v1/chat/completions', {
      json: { model: 'm', messages, stream: true, stream_options: { include_usage: true } },
    });
    const events = sseData(await response.body.text());
    const usageChunks = events.filter((event) => event !== '[DONE]' && 'usage' in event);
    expect(usageChunks).toHaveLength(1);
    expect(events.at(-2)).toMatchObject({
      choices: [],
      usage: { total_tokens: expect.any(Number) },
    });
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('streams a tool call with split arguments when tools are given and weather is asked', async () => {
    await start();
    const response = await call('/v1/chat/completions', {
      json: { model: 'm', messages: weatherMessages, tools: weatherTools, stream: true },
    });
    const chunks = sseData(await response.body.text()).filter((e): e is Json => e !== '[DONE]');
    const calls = chunks.flatMap(
      (chunk) => ((chunk.choices?.[0]?.delta as Json)?.tool_calls as Json[] | undefined) ?? [],
    );
    expect(calls[0]).toMatchObject({ index: 0, id: expect.any(String), type: 'function' });
    const argumentsText = calls.map((call) => (call.function as Json).arguments).join('');
    expect(JSON.parse(argumentsText)).toEqual(DEFAULT_TOOL_ARGUMENTS);
    expect(chunks.at(-1)?.choices?.[0]?.finish_reason).toBe('tool_calls');
  });

  it('lists models', async () => {
    await start();
    const body = (await (await call('/v1/models')).body.json()) as Json;
    expect(body.object).toBe('list');
    expect(body.data).toContainEqual(
      expect.objectContaining({ object: 'model', owned_by: 'Cerebras' }),
    );
  });
});

describe('fake upstream defaults: Ollama', () => {
  it('answers /api/chat with JSON when stream is false', async () => {
    await start();
    const response = await call('/api/chat', {
      json: { model: 'qwen3:4b', messages, stream: false },
    });
    const body = (await response.body.json()) as Json;
    expect(body).toMatchObject({
      model: 'qwen3:4b',
      message: { role: 'assistant', content: DEFAULT_REPLY },
      done: true,
      done_reason: 'stop',
      prompt_eval_count: expect.any(Number),
      eval_count: expect.any(Number),
      total_duration: expect.any(Number),
    });
    expect(new Date(body.created_at as string).toISOString()).toBe(body.created_at);
  });

  it('streams NDJSON by default (no stream field)', async () => {
    await start();
    const response = await call('/api/chat', { json: { model: 'llama3.2', messages } });
    expect(response.headers['content-type']).toBe('application/x-ndjson');
    const text = await response.body.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    expect(lines.slice(0, -1).every((line) => line.done === false)).toBe(true);
    expect(lines.map((line) => (line.message as Json).content).join('')).toBe(DEFAULT_REPLY);
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: 6 });
  });

  it('answers with an Ollama tool call (arguments as an object) when weather is asked', async () => {
    await start();
    const json = { model: 'llama3.2', messages: weatherMessages, tools: weatherTools };
    const streamed = await (await call('/api/chat', { json })).body.text();
    const lines = streamed
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Json);
    const toolCall = { function: { name: 'get_weather', arguments: DEFAULT_TOOL_ARGUMENTS } };
    expect(lines[0]).toMatchObject({ done: false, message: { tool_calls: [toolCall] } });
    expect(lines.at(-1)).toMatchObject({ done: true });

    const single = await call('/api/chat', { json: { ...json, stream: false } });
    expect(await single.body.json()).toMatchObject({ message: { tool_calls: [toolCall] } });
  });

  it('lists tags, reports a version and 404s anything else as JSON', async () => {
    await start();
    const tags = (await (await call('/api/tags')).body.json()) as { models: Json[] };
    expect(tags.models[0]).toMatchObject({
      name: 'llama3.2:latest',
      model: 'llama3.2:latest',
      modified_at: expect.stringMatching(/Z$/),
      size: expect.any(Number),
      digest: expect.any(String),
      details: expect.any(Object),
    });
    expect(await (await call('/api/version')).body.json()).toEqual({ version: '0.12.0' });
    const missing = await call('/nope');
    expect(missing.statusCode).toBe(404);
    expect(await missing.body.json()).toMatchObject({ error: { message: expect.any(String) } });
  });
});

describe('fake upstream scripting', () => {
  it('serves queued responses in order, then falls back to the defaults', async () => {
    const fake = await start();
    fake.enqueue(
      { status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'slow down' } } },
      (recorded) => ({ status: 201, body: `you sent ${recorded.body}` }),
    );
    const limited = await call('/v1/chat/completions', { json: { model: 'm' } });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers['retry-after']).toBe('2');
    expect(limited.headers['content-type']).toBe('application/json');
    expect(await limited.body.json()).toEqual({ error: { message: 'slow down' } });

    const echoed = await call('/x', { method: 'POST', json: 'hi' });
    expect(echoed.statusCode).toBe(201);
    expect(await echoed.body.text()).toBe('you sent "hi"');

    const fallback = await call('/v1/chat/completions', { json: { model: 'm', messages } });
    expect(fallback.statusCode).toBe(200);
    await fallback.body.dump();
    expect(fake.requests).toHaveLength(3);
  });

  it('records a body that is not JSON with json undefined', async () => {
    const fake = await start();
    fake.enqueue({ status: 204 });
    const response = await request(`${fake.url}/raw`, {
      method: 'POST',
      body: 'not json',
      ...(agent ? { dispatcher: agent } : {}),
    });
    await response.body.dump();
    expect(fake.requests[0]).toMatchObject({ body: 'not json', json: undefined });
  });

  it('waits delayMs before the headers and paces chunks by chunkDelayMs', async () => {
    const fake = await start({ chunkDelayMs: 15 });
    fake.enqueue({ delayMs: 60, body: 'late' });
    const started = performance.now();
    const late = await call('/late');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(await late.body.text()).toBe('late');

    const paced = performance.now();
    const streamed = await call('/v1/chat/completions', { json: { model: 'm', stream: true } });
    await streamed.body.dump();
    // 9 events, 8 gaps of 15 ms.
    expect(performance.now() - paced).toBeGreaterThanOrEqual(100);
  });

  it('writes chunks separately, so a Buffer can split a UTF-8 character across reads', async () => {
    const fake = await start();
    const euro = Buffer.from('€'); // e2 82 ac
    fake.enqueue(
      sseResponse([
        Buffer.concat([Buffer.from('data: {"content":"'), euro.subarray(0, 1)]),
        { delayMs: 30 },
        Buffer.concat([euro.subarray(1), Buffer.from('"}\n\n')]),
        { delayMs: 30 },
        SSE_DONE,
      ]),
    );
    const response = await call('/v1/chat/completions', { json: { model: 'm', stream: true } });
    const reads: Buffer[] = [];
    for await (const chunk of response.body) reads.push(chunk as Buffer);
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads[0]?.at(-1)).toBe(0xe2);
    expect(reads[1]?.subarray(0, 2)).toEqual(euro.subarray(1));
    expect(Buffer.concat(reads).toString('utf8')).toBe(`data: {"content":"€"}\n\n${SSE_DONE}`);
  });

  it("end: 'close' truncates the response after the chunks", async () => {
    const fake = await start();
    fake.enqueue(
      sseResponse(openAiSseEvents(['Hel'], { done: false }).slice(0, 2), { end: 'close' }),
    );
    const response = await call('/v1/chat/completions', { json: { model: 'm', stream: true } });
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    // Closed by us, not by the client: this is not an abort.
    expect(fake.requests[0]?.aborted).toBe(false);
  });

  it('resetBeforeHeaders resets the connection without any response', async () => {
    const fake = await start();
    fake.enqueue({ resetBeforeHeaders: true });
    await expect(call('/v1/chat/completions', { json: { model: 'm' } })).rejects.toMatchObject({
      code: expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/),
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.aborted).toBe(false);
  });
});

describe('fake upstream aborts and shutdown', () => {
  it('sees a client abort in the middle of a stalled stream', async () => {
    const fake = await start();
    fake.enqueue(sseResponse(ollamaNdjsonLines(['a'], { done: false }), { end: 'stall' }));
    const controller = new AbortController();
    const response = await call('/api/chat', { json: { model: 'm' }, signal: controller.signal });
    const iterator = response.body[Symbol.asyncIterator]();
    expect(String((await iterator.next()).value)).toContain('"content":"a"');
    const before = performance.now();
    controller.abort();
    const aborted = await fake.waitForAbort(0, 2000);
    expect(aborted.aborted).toBe(true);
    expect(aborted.abortedAt).toBeGreaterThanOrEqual(before);
  });

  it('sees a client abort before the headers (stallBeforeHeaders and delayMs)', async () => {
    const fake = await start();
    fake.enqueue({ stallBeforeHeaders: true }, { delayMs: 60_000, body: 'never' });
    for (const index of [0, 1]) {
      const controller = new AbortController();
      const pending = call('/v1/chat/completions', { json: {}, signal: controller.signal });
      await fake.waitForRequests(index + 1, 2000);
      controller.abort();
      await expect(pending).rejects.toThrow();
      expect((await fake.waitForAbort(index, 2000)).aborted).toBe(true);
    }
  });

  it('sees a client that leaves in the middle of its request body, keeping the partial body', async () => {
    const fake = await start();
    const socket = connect(Number(new URL(fake.url).port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"partial');
    await sleep(50);
    socket.destroy();
    const aborted = await fake.waitForAbort(0, 2000);
    expect(aborted).toMatchObject({ method: 'POST', body: '{"partial', json: undefined });
  });

  it('waitForAbort rejects when the response finished normally, and on timeout', async () => {
    const fake = await start();
    await (await call('/api/version')).body.dump();
    await expect(fake.waitForAbort(0, 2000)).rejects.toThrow(/without an abort/);
    await expect(fake.waitForAbort(5, 20)).rejects.toThrow(/within 20 ms/);
    await expect(fake.waitForRequests(9, 20)).rejects.toThrow(/got 1/);
  });

  it('counts a keep-alive socket between requests as open but not in flight', async () => {
    const fake = await start();
    await (await call('/api/version')).body.dump();
    await waitUntil(() => fake.inFlight() === 0, 2000, 'the response over');
    expect(fake.openConnections()).toBe(1);
  });

  it('counts open connections, resets its records and closes at once despite stalls', async () => {
    const fake = await start();
    fake.enqueue({ chunks: ['partial'], end: 'stall' }, { stallBeforeHeaders: true });
    const streaming = await call('/a');
    const iterator = streaming.body[Symbol.asyncIterator]();
    await iterator.next();
    const silent = call('/b').catch((error: unknown) => error);
    await fake.waitForRequests(2, 2000);
    expect(fake.openConnections()).toBe(2);
    expect(fake.inFlight()).toBe(2);
    const pendingWait = expect(fake.waitForRequests(3, 60_000)).rejects.toThrow(/closed/);

    const started = performance.now();
    await fake.close();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(fake.openConnections()).toBe(0);
    expect(fake.inFlight()).toBe(0);
    expect(await silent).toBeInstanceOf(Error);
    await expect(iterator.next()).rejects.toThrow();
    await pendingWait;
    // Ended by the server, not the client.
    expect(fake.requests.map((recorded) => recorded.aborted)).toEqual([false, false]);
    fake.reset();
    expect(fake.requests).toHaveLength(0);
    await fake.close(); // idempotent
  });
});
