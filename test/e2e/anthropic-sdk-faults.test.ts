/**
 * The Anthropic SDK against the gateway when things go wrong or slow, in both dialects: a client
 * that aborts (the upstream must see it), upstream failures before the first byte (a status and
 * Anthropic's error type, raised as the SDK's error classes) and after it (an `error` event),
 * pings while the upstream is silent, and a body the size of Claude Code's.
 */
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { accumulateMessage, parseAnthropicSse } from '../helpers/anthropic-events.js';
import { MODELS, useAnthropicGateway } from '../helpers/anthropic-gateway.js';
import type { FakeResponse } from '../helpers/fake-upstream.js';
import {
  DEFAULT_REPLY,
  ollamaNdjsonLines,
  openAiSseEvents,
  partialStream,
  streamedAs,
  type WireProvider,
} from '../helpers/fake-upstream-wire.js';
import { CLIENT_KEY } from '../helpers/gateway-harness.js';
import { rejectionOf } from '../helpers/openai-sdk-helpers.js';

const DIALECTS: readonly WireProvider[] = ['ollama', 'cerebras'];
const QUESTION: Anthropic.MessageParam[] = [{ role: 'user', content: 'hi' }];
const ABORT_WITHIN_MS = 2_000;

/** Every line or event of a default text answer in `dialect`, as the upstream streams it. */
function answerParts(dialect: WireProvider): string[] {
  return dialect === 'ollama'
    ? ollamaNdjsonLines(['Hello', ' from', ' the', ' fake', ' upstream', '!'])
    : openAiSseEvents(undefined, { includeUsage: true });
}

describe.each(DIALECTS)('the Anthropic SDK on /%s/v1/messages, faults', (dialect) => {
  const gateway = useAnthropicGateway({ env: { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '300' } });
  const model = MODELS[dialect];
  const client = () => gateway.client(dialect);

  it('aborts the upstream when the client aborts a stream', async () => {
    gateway.upstream.enqueue(streamedAs(dialect, partialStream(dialect), { end: 'stall' }));
    const stream = client().messages.stream({ model, max_tokens: 64, messages: QUESTION });
    const ended = stream.finalMessage().catch((error: unknown) => error);
    await new Promise<void>((resolve) => stream.once('text', () => resolve()));
    stream.abort();
    expect(await ended).toBeInstanceOf(Anthropic.APIUserAbortError);
    await gateway.upstream.waitForAbort(0, ABORT_WITHIN_MS);
  });

  it('aborts the upstream when the client gives up on a slow non-streaming request', async () => {
    gateway.upstream.enqueue({ delayMs: 250, stallBeforeHeaders: true });
    const controller = new AbortController();
    const pending = rejectionOf(
      client().messages.create(
        { model, max_tokens: 64, messages: QUESTION },
        { signal: controller.signal },
      ),
    );
    await gateway.upstream.waitForRequests(1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Anthropic.APIUserAbortError);
    await gateway.upstream.waitForAbort(0, ABORT_WITHIN_MS);
  });

  const failures: ReadonlyArray<{
    readonly name: string;
    readonly respond: FakeResponse;
    readonly errorClass: typeof Anthropic.APIError<number, Headers>;
    readonly status: number;
    readonly type: string;
  }> = [
    {
      name: '429',
      respond: { status: 429, headers: { 'retry-after': '600' }, body: { error: 'slow down' } },
      errorClass: Anthropic.RateLimitError,
      status: 429,
      type: 'rate_limit_error',
    },
    {
      name: '500',
      respond: { status: 500, body: { error: 'boom' } },
      errorClass: Anthropic.InternalServerError,
      status: 502,
      type: 'api_error',
    },
    {
      name: '503 (after the retry)',
      respond: { status: 503, headers: { 'retry-after': '600' }, body: { error: 'loading' } },
      errorClass: Anthropic.ServiceUnavailableError,
      status: 503,
      type: 'overloaded_error',
    },
    {
      name: 'an unknown model (404)',
      respond: { status: 404, body: { error: "model 'nope' not found" } },
      errorClass: Anthropic.NotFoundError,
      status: 404,
      type: 'not_found_error',
    },
    {
      name: 'no first byte before the timeout',
      respond: { stallBeforeHeaders: true },
      errorClass: Anthropic.GatewayTimeoutError,
      status: 504,
      type: 'timeout_error',
    },
  ];

  it.each(failures.flatMap((failure) => [false, true].map((stream) => ({ ...failure, stream }))))(
    'raises $name before the first byte as $type (stream: $stream)',
    async ({ respond, errorClass, status, type, stream }) => {
      gateway.upstream.enqueue(respond);
      const request = { model, max_tokens: 64, messages: QUESTION };
      const error = await rejectionOf(
        stream
          ? client().messages.stream(request).finalMessage()
          : client().messages.create(request),
      );
      expect(error).toBeInstanceOf(errorClass);
      if (!(error instanceof Anthropic.APIError)) throw error;
      expect([error.status, error.type]).toEqual([status, type]);
      expect(error.requestID).toBe(error.headers?.get('x-request-id'));
      expect(error.requestID).toBeTruthy();
    },
  );

  it('raises a failure after the first byte from the error event, with the request id', async () => {
    gateway.upstream.enqueue(streamedAs(dialect, partialStream(dialect), { end: 'close' }));
    const stream = client().messages.stream({ model, max_tokens: 64, messages: QUESTION });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const error = await rejectionOf(stream.finalMessage());
    expect(error).toBeInstanceOf(Anthropic.APIError);
    if (!(error instanceof Anthropic.APIError)) throw error;
    expect(error.type).toBe('api_error');
    expect(error.requestID).toBeTruthy();
    // What came before the failure reached the client.
    expect(texts.join('')).toBe('Hello there');
  });

  it('accepts a 150 KB request', async () => {
    const system = 'You are a careful agent. '.repeat(6_200);
    const message = await client().messages.create({
      model,
      max_tokens: 64,
      system,
      messages: QUESTION,
    });
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_REPLY }]);
    expect(gateway.upstream.requests[0]?.body.length).toBeGreaterThan(150_000);
  });
});

describe.each(DIALECTS)('pings on /%s/v1/messages while the upstream is silent', (dialect) => {
  const gateway = useAnthropicGateway({ pingIntervalMs: 50 });
  const model = MODELS[dialect];

  /** The frames of a raw streamed request. */
  async function streamFrames() {
    const response = await fetch(`${gateway.url}/${dialect}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CLIENT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 64, stream: true, messages: QUESTION }),
    });
    expect(response.status).toBe(200);
    return parseAnthropicSse(await response.text());
  }

  it('pings during a slow prefill: the stream opens, then the answer follows', async () => {
    // Headers at once, then nothing for a while: a local model reading a long prompt.
    gateway.upstream.enqueue(streamedAs(dialect, [{ delayMs: 400 }, ...answerParts(dialect)]));
    const frames = await streamFrames();
    expect(frames.slice(0, 2).map((frame) => frame.event)).toEqual(['message_start', 'ping']);
    expect(frames.filter((frame) => frame.event === 'ping').length).toBeGreaterThanOrEqual(3);
    expect(accumulateMessage(frames).content).toEqual([{ type: 'text', text: DEFAULT_REPLY }]);
  });

  it('aborts the upstream when the client leaves a stream that is still only pinging', async () => {
    gateway.upstream.enqueue(streamedAs(dialect, [], { end: 'stall' }));
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/${dialect}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CLIENT_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 64, stream: true, messages: QUESTION }),
      signal: controller.signal,
    });
    // The stream opened early: headers and message_start came before any upstream chunk.
    expect(response.status).toBe(200);
    controller.abort();
    await gateway.upstream.waitForAbort(0, ABORT_WITHIN_MS);
  });

  it('pings when the upstream pauses mid-answer, and the SDK reads through the pings', async () => {
    const parts = answerParts(dialect);
    const paused = [...parts.slice(0, 3), { delayMs: 400 }, ...parts.slice(3)];
    gateway.upstream.enqueue(streamedAs(dialect, paused));
    const frames = await streamFrames();
    const firstText = frames.findIndex((frame) => frame.event === 'content_block_delta');
    expect(frames.slice(firstText).some((frame) => frame.event === 'ping')).toBe(true);
    gateway.upstream.enqueue(streamedAs(dialect, paused));
    const message = await gateway
      .client(dialect)
      .messages.stream({ model, max_tokens: 64, messages: QUESTION })
      .finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_REPLY }]);
  });
});
