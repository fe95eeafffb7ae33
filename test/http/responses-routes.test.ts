/** The Responses API over app.inject: routes, validation, translation, JSON and SSE, failures. */
import { describe, expect, it } from 'vitest';
import { UpstreamError, UpstreamTimeoutError } from '../../src/errors/gateway-error.js';
import { appWith, auth, expectEnvelope } from '../helpers/app-fixture.js';
import { chunks, streamOf } from '../helpers/fake-provider.js';
import { captureLogs } from '../helpers/log-capture.js';
import { expectWellFormed, parseResponsesEvents } from '../helpers/responses-events.js';

const body = { model: 'm1', input: 'hi' };

async function post(
  app: Awaited<ReturnType<typeof appWith>>['app'],
  payload: unknown,
  url = '/v1/responses',
) {
  return app.inject({ method: 'POST', url, headers: auth, payload: payload as object });
}

describe('POST /v1/responses', () => {
  it('serves /v1 by model and prefixed routes pinned, as JSON', async () => {
    const { app, ollama, cerebras } = await appWith();
    const routed = await post(app, body);
    expect(routed.statusCode).toBe(200);
    expect(routed.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(routed.json()).toMatchObject({
      id: expect.stringMatching(/^resp_[0-9a-f]{32}$/),
      object: 'response',
      status: 'completed',
      model: 'm1',
      output: [
        {
          type: 'message',
          id: expect.stringMatching(/^msg_/),
          content: [{ type: 'output_text', text: 'Hi there' }],
        },
      ],
      usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
    });
    expect(ollama.calls.map((call) => call.request)).toEqual([
      { model: 'm1', messages: [{ role: 'user', content: 'hi' }] },
    ]);
    const pinned = await post(app, body, '/cerebras/v1/responses');
    expect(pinned.statusCode).toBe(200);
    expect(cerebras.calls.map((call) => call.method)).toEqual(['chat']);
  });

  it('answers an unknown provider prefix with a 404 envelope', async () => {
    const { app } = await appWith();
    const response = await post(app, body, '/nope/v1/responses');
    expect(response.statusCode).toBe(404);
    expectEnvelope(response.body, 'not_found_error', 'route_not_found');
  });

  it.each([
    [{ input: 'hi' }, 'model'],
    [{ model: 'm1' }, 'input'],
    [{ model: 'm1', input: 3 }, 'input'],
    [{ ...body, max_output_tokens: 0 }, 'max_output_tokens'],
    [{ ...body, tools: [{ name: 'no type' }] }, 'tools[0].type'],
    [{ ...body, input: [{ role: 'wizard', content: 'x' }] }, 'input[0].role'],
  ])('refuses %j with a 422 naming %s', async (payload, param) => {
    const { app, ollama } = await appWith();
    const response = await post(app, payload);
    expect(response.statusCode).toBe(422);
    expect(expectEnvelope(response.body, 'invalid_request_error', 'validation_error').param).toBe(
      param,
    );
    expect(ollama.calls).toHaveLength(0);
  });

  it.each([
    [{ previous_response_id: 'resp_123' }, 'previous_response_id'],
    [{ conversation: 'conv_123' }, 'conversation'],
  ])('refuses stored state %j: 400 previous_response_not_found', async (fields, param) => {
    const { app, ollama } = await appWith();
    const response = await post(app, { ...body, ...fields });
    expect(response.statusCode).toBe(400);
    const error = expectEnvelope(
      response.body,
      'invalid_request_error',
      'previous_response_not_found',
    );
    expect(error.param).toBe(param);
    expect(ollama.calls).toHaveLength(0);
  });

  it('accepts fields, tools and items it does not know, and logs the hosted tools it drops', async () => {
    const logs = captureLogs();
    const { app, ollama } = await appWith({ logs });
    const response = await post(app, {
      ...body,
      input: [
        { type: 'message', role: 'user', content: 'hi', brand_new_field: 1 },
        { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'x' },
      ],
      tools: [
        { type: 'web_search', external_web_access: false },
        { type: 'tool_search', execution: 'client', parameters: {} },
        { type: 'function', name: 'f', parameters: { type: 'object' }, defer_loading: true },
      ],
      store: false,
      include: ['reasoning.encrypted_content'],
      prompt_cache_key: 'k',
      client_metadata: { a: 'b' },
      text: { verbosity: 'low' },
      a_field_from_next_month: { x: 1 },
    });
    expect(response.statusCode).toBe(200);
    expect(ollama.calls[0]?.request).toEqual({
      model: 'm1',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
    });
    const dropped = logs.entries().find((entry) => entry.droppedTools !== undefined);
    expect(dropped).toMatchObject({
      droppedTools: ['web_search', 'tool_search'],
      droppedItems: ['reasoning'],
      requestId: expect.any(String),
    });
  });

  it('streams Responses events with the SSE headers', async () => {
    const { app } = await appWith();
    const response = await post(app, { ...body, stream: true });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['x-accel-buffering']).toBe('no');
    expect(response.headers['x-request-id']).toBeTruthy();
    const events = parseResponsesEvents(response.body);
    const final = expectWellFormed(events);
    expect(final).toMatchObject({
      status: 'completed',
      output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello' }] }],
      usage: { input_tokens: 3, output_tokens: 2 },
    });
    expect(response.body).not.toContain('[DONE]');
  });

  it('ends a stream that fails after its first chunk with response.failed', async () => {
    const { app } = await appWith({
      ollama: {
        chatStream: async () =>
          (async function* () {
            yield* streamOf(chunks('m1', ['Hel']).slice(0, 1));
            throw new UpstreamTimeoutError('ollama', 'idle');
          })(),
      },
    });
    const response = await post(app, { ...body, stream: true });
    expect(response.statusCode).toBe(200);
    const events = parseResponsesEvents(response.body);
    expect(expectWellFormed(events)).toMatchObject({
      status: 'failed',
      error: {
        code: 'upstream_timeout',
        message: 'The ollama upstream timed out while streaming.',
      },
    });
  });

  it('answers a stream that fails before its first chunk with a status and the envelope', async () => {
    const { app } = await appWith({
      ollama: {
        chatStream: async () =>
          // biome-ignore lint/correctness/useYield: fails before its first chunk on purpose
          (async function* () {
            throw new UpstreamError('The ollama upstream failed mid-stream: model failed to load');
          })(),
      },
    });
    const response = await post(app, { ...body, stream: true });
    expect(response.statusCode).toBe(502);
    expect(response.headers['content-type']).toContain('application/json');
    expectEnvelope(response.body, 'api_error', 'upstream_error');
  });

  it('notes the usage of a stream for the access line', async () => {
    const logs = captureLogs();
    const { app } = await appWith({ logs });
    await post(app, { ...body, stream: true });
    const access = logs.entries().find((entry) => entry.promptTokens !== undefined);
    expect(access).toMatchObject({ promptTokens: 3, completionTokens: 2, route: '/v1/responses' });
  });
});
