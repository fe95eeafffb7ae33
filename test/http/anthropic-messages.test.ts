/**
 * `POST /v1/messages` through app.inject: routed and pinned, JSON and SSE, what reaches the
 * provider, and pings while a stream's first chunk is slow to come.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { UpstreamError } from '../../src/errors/gateway-error.js';
import type { ChatRequest } from '../../src/openai/chat-types.js';
import { accumulateMessage, parseAnthropicSse } from '../helpers/anthropic-events.js';
import { appWith, KEY } from '../helpers/app-fixture.js';
import { chunks, createFakeProvider, streamOf } from '../helpers/fake-provider.js';

const headers = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
const body = { model: 'm1', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] };

describe('POST /v1/messages', () => {
  it('answers JSON from the routed provider, and from the pinned one on /{provider}/v1', async () => {
    const { app, ollama, cerebras } = await appWith();
    const routed = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: body,
    });
    expect(routed.statusCode).toBe(200);
    expect(routed.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(routed.headers['request-id']).toBe(routed.headers['x-request-id']);
    expect(routed.json()).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'm1',
      content: [{ type: 'text', text: 'Hi there' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 3,
        output_tokens: 2,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    const pinned = await app.inject({
      method: 'POST',
      url: '/cerebras/v1/messages?beta=true',
      headers,
      payload: body,
    });
    expect(pinned.statusCode).toBe(200);
    expect(ollama.calls.map((call) => call.method)).toEqual(['chat']);
    expect(cerebras.calls.map((call) => call.method)).toEqual(['chat']);
  });

  it('sends the provider the translated request: system text without the attribution line', async () => {
    const { app, ollama } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages?beta=true',
      headers: { authorization: `Bearer ${KEY}`, 'anthropic-beta': 'some-feature-2099-01-01' },
      payload: {
        ...body,
        system: [
          { type: 'text', text: 'x-anthropic-billing-header: cc_version=9.9.9; cch=abc;' },
          { type: 'text', text: 'You are a CLI.', cache_control: { type: 'ephemeral' } },
        ],
        messages: [
          { role: 'system', content: 'Local model notes.' },
          { role: 'user', content: [{ type: 'text', text: 'hi', brand_new_field: 1 }] },
          { role: 'assistant', content: [{ type: 'future_block', payload: {} }] },
        ],
        context_management: { edits: [{ type: 'clear_tool_uses_20250919' }] },
        metadata: { user_id: '{"device_id":"d"}' },
        thinking: { type: 'enabled', budget_tokens: 1024 },
        top_k: 5,
      },
    });
    expect(response.statusCode).toBe(200);
    const sent = ollama.calls[0]?.request as ChatRequest;
    expect(sent).toEqual({
      model: 'm1',
      max_tokens: 256,
      messages: [
        { role: 'system', content: 'You are a CLI.' },
        { role: 'system', content: 'Local model notes.' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('streams events that add up to the message, with the request id header', async () => {
    const { app } = await appWith();
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, stream: true },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['request-id']).toBe(response.headers['x-request-id']);
    const message = accumulateMessage(parseAnthropicSse(response.body));
    expect(message.content).toEqual([{ type: 'text', text: 'Hello' }]);
    expect(message.stopReason).toBe('end_turn');
    expect(message.startUsage.input_tokens).toBeGreaterThan(0);
    expect(message.usage).toEqual({
      input_tokens: 3,
      output_tokens: 2,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    });
  });

  it('ends a stream that fails after its first chunk with an error event, no message_stop', async () => {
    const { app } = await appWith({
      ollama: {
        chatStream: async () =>
          (async function* () {
            yield* streamOf(chunks('m1', ['Hel']).slice(0, 1));
            throw new UpstreamError('The ollama upstream failed mid-stream.');
          })(),
      },
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, stream: true },
    });
    expect(response.statusCode).toBe(200);
    const message = accumulateMessage(parseAnthropicSse(response.body));
    expect(message.end).toEqual({
      error: { type: 'api_error', message: 'The ollama upstream failed mid-stream.' },
    });
  });

  it('accepts a ~150 KB request (Claude Code sends ~115 KB) under the default body limit', async () => {
    const { app, ollama } = await appWith();
    const big = 'x'.repeat(150 * 1024);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, system: big },
    });
    expect(response.statusCode).toBe(200);
    const sent = ollama.calls[0]?.request as ChatRequest;
    expect(sent.messages[0]).toEqual({ role: 'system', content: big });
  });
});

describe('pings', () => {
  /** A gateway whose ollama answers `pieces` after `delayMs`, or fails then if `failure` is set. */
  async function slowApp(delayMs: number, failure?: Error) {
    const ollama = createFakeProvider('ollama', {
      chatStream: async (request) =>
        (async function* () {
          await sleep(delayMs);
          if (failure !== undefined) throw failure;
          yield* streamOf(chunks(request.model, ['Hel', 'lo']));
        })(),
    });
    return buildApp({
      providers: new Map([['ollama', ollama]]),
      apiKeys: [KEY],
      streamPingIntervalMs: 40,
    });
  }

  it('opens a stream whose first chunk is slow and pings until the upstream speaks', async () => {
    const app = await slowApp(200);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, stream: true },
    });
    const frames = parseAnthropicSse(response.body);
    expect(frames[0]?.event).toBe('message_start');
    expect(frames[1]?.event).toBe('ping');
    expect(frames.filter((frame) => frame.event === 'ping').length).toBeGreaterThanOrEqual(2);
    expect(accumulateMessage(frames).content).toEqual([{ type: 'text', text: 'Hello' }]);
  });

  it('answers with a status when the upstream fails within the first interval', async () => {
    const app = await slowApp(0, new UpstreamError('The ollama upstream failed.'));
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, stream: true },
    });
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({
      type: 'error',
      error: { type: 'api_error', message: 'The ollama upstream failed.' },
    });
  });

  it('ends an early-opened stream whose upstream then fails with the error event', async () => {
    const app = await slowApp(150, new UpstreamError('The ollama upstream failed.'));
    const response = await app.inject({
      method: 'POST',
      url: '/v1/messages',
      headers,
      payload: { ...body, stream: true },
    });
    expect(response.statusCode).toBe(200);
    expect(accumulateMessage(parseAnthropicSse(response.body)).end).toEqual({
      error: { type: 'api_error', message: 'The ollama upstream failed.' },
    });
  });
});
