/**
 * The Responses API as the `openai` SDK uses it over loopback, on routed and pinned paths, in
 * front of the fake upstream in both dialects (Ollama NDJSON, OpenAI SSE): `responses.create`,
 * `responses.stream` … `finalResponse()`, function calls and their outputs, structured output,
 * parallel calls streamed in pieces, length stops, aborts and upstream failures before and after
 * the first byte; and the raw stream's framing.
 */
import type OpenAI from 'openai';
import { InternalServerError } from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { partialStream, streamedAs } from '../helpers/fake-upstream-wire.js';
import { useGateway } from '../helpers/gateway-harness.js';
import {
  collect,
  expectSdkError,
  nextRequestId,
  rejectionOf,
} from '../helpers/openai-sdk-helpers.js';
import { expectWellFormed, parseResponsesEvents } from '../helpers/responses-events.js';
import {
  callArguments,
  RESPONSES_ROUTES,
  scriptedAnswer,
  type UpstreamMessage,
  upstreamBody,
} from '../helpers/responses-upstream.js';
import { postChat } from '../helpers/sse-client.js';

const WEATHER_TOOL: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: {
    type: 'object',
    properties: { location: { type: 'string' } },
    required: ['location'],
    additionalProperties: false,
  },
  strict: true,
};

const SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' }, temp: { type: 'number' } },
  required: ['city', 'temp'],
  additionalProperties: false,
};

const gateway = useGateway();

describe.each(RESPONSES_ROUTES)('Responses through $name', (route) => {
  let client: OpenAI;
  beforeAll(() => {
    client = gateway.client(route.prefix);
  });
  const answer = (stream: boolean, scripted: Parameters<typeof scriptedAnswer>[2]) =>
    gateway.upstream.enqueue(scriptedAnswer(route.dialect, stream, scripted));
  const messages = () => upstreamBody(gateway.upstream).messages as UpstreamMessage[];

  it('responses.create: a completed response with its text and usage', async () => {
    answer(false, { text: ['Hello', ' there'], promptTokens: 20, completionTokens: 2 });
    const response = await client.responses.create({
      model: route.model,
      instructions: 'Be brief.',
      input: 'hi',
    });
    expect(response).toMatchObject({
      id: expect.stringMatching(/^resp_/),
      object: 'response',
      status: 'completed',
      error: null,
      incomplete_details: null,
      model: route.model,
      output_text: 'Hello there',
      usage: {
        input_tokens: 20,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 2,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 22,
      },
    });
    expect(response.output).toHaveLength(1);
    expect(messages()).toMatchObject([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('responses.stream … finalResponse(): deltas, one id from created to completed, usage', async () => {
    answer(true, { text: ['Hel', 'lo', '!'] });
    const stream = client.responses.stream({ model: route.model, input: 'hi' });
    const deltas: string[] = [];
    const ids: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    stream.on('response.created', (event) => ids.push(event.response.id));
    stream.on('response.completed', (event) => ids.push(event.response.id));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('Hello!');
    expect(final.output_text).toBe('Hello!');
    expect(final.status).toBe('completed');
    expect(ids).toEqual([final.id, final.id]);
    expect(final.usage?.input_tokens).toBe(12);
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('function calls and their outputs round trip', async () => {
    answer(false, { calls: [{ name: 'get_weather', arguments: { location: 'Paris' } }] });
    const first = await client.responses.create({
      model: route.model,
      input: 'What is the weather in Paris?',
      tools: [WEATHER_TOOL],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({
      type: 'function_call',
      id: expect.stringMatching(/^fc_/),
      call_id: expect.stringMatching(/^call_/),
      name: 'get_weather',
      status: 'completed',
    });
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(JSON.parse(call.arguments)).toEqual({ location: 'Paris' });
    expect(upstreamBody(gateway.upstream).tools).toMatchObject([
      { type: 'function', function: { name: 'get_weather', parameters: WEATHER_TOOL.parameters } },
    ]);

    gateway.upstream.reset();
    answer(false, { text: ['It is sunny.'] });
    const second = await client.responses.create({
      model: route.model,
      tools: [WEATHER_TOOL],
      input: [
        { role: 'user', content: 'What is the weather in Paris?' },
        call,
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp":21}' },
      ],
    });
    expect(second.output_text).toBe('It is sunny.');
    const sent = messages();
    expect(sent.map((message) => message.role)).toEqual(['user', 'assistant', 'tool']);
    const [toolCall] = sent[1]?.tool_calls ?? [];
    expect(toolCall?.function.name).toBe('get_weather');
    expect(toolCall && callArguments(toolCall)).toEqual({ location: 'Paris' });
    expect(sent[2]).toMatchObject({ role: 'tool', content: '{"temp":21}' });
  });

  it('structured output: text.format json_schema reaches the upstream, JSON comes back', async () => {
    answer(false, { text: ['{"city":"Paris","temp":21}'] });
    const response = await client.responses.create({
      model: route.model,
      input: 'Weather in Paris as JSON',
      text: { format: { type: 'json_schema', name: 'weather', schema: SCHEMA, strict: true } },
    });
    expect(JSON.parse(response.output_text)).toEqual({ city: 'Paris', temp: 21 });
    expect(response.text?.format).toEqual({
      type: 'json_schema',
      name: 'weather',
      schema: SCHEMA,
      strict: true,
    });
    const body = upstreamBody(gateway.upstream);
    if (route.dialect === 'ollama') expect(body.format).toEqual(SCHEMA);
    else {
      expect(body.response_format).toEqual({
        type: 'json_schema',
        json_schema: { name: 'weather', schema: SCHEMA, strict: true },
      });
    }
  });

  it('parallel tool calls streamed in many pieces: every call whole, in order', async () => {
    answer(true, {
      calls: [
        { name: 'get_weather', arguments: { location: 'Paris' } },
        { name: 'get_weather', arguments: { location: 'Oslo' } },
      ],
      argumentPieces: 7,
    });
    const stream = client.responses.stream({
      model: route.model,
      input: 'Weather in Paris and Oslo?',
      tools: [WEATHER_TOOL],
      parallel_tool_calls: true,
    });
    const deltas = new Map<string, string[]>();
    const done: string[] = [];
    stream.on('response.function_call_arguments.delta', (event) => {
      deltas.set(event.item_id, [...(deltas.get(event.item_id) ?? []), event.delta]);
    });
    stream.on('response.output_item.done', (event) => done.push(event.item.id ?? ''));
    const final = await stream.finalResponse();
    const calls = final.output.filter((item) => item.type === 'function_call');
    expect(calls.map((call) => [call.name, JSON.parse(call.arguments)])).toEqual([
      ['get_weather', { location: 'Paris' }],
      ['get_weather', { location: 'Oslo' }],
    ]);
    expect(new Set(calls.map((call) => call.call_id)).size).toBe(2);
    expect(done).toEqual(calls.map((call) => call.id));
    for (const call of calls) expect(deltas.get(call.id ?? '')?.join('')).toBe(call.arguments);
    if (route.dialect === 'cerebras') {
      for (const call of calls) expect(deltas.get(call.id ?? '')?.length).toBeGreaterThan(5);
    }
  });

  it('a length stop is incomplete, JSON and stream', async () => {
    answer(false, { text: ['Hel'], finishReason: 'length' });
    const response = await client.responses.create({
      model: route.model,
      input: 'hi',
      max_output_tokens: 3,
    });
    expect(response).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
      output_text: 'Hel',
      max_output_tokens: 3,
    });
    const body = upstreamBody(gateway.upstream);
    if (route.dialect === 'ollama') expect(body.options).toMatchObject({ num_predict: 3 });
    else expect(body.max_completion_tokens).toBe(3);

    gateway.upstream.reset();
    answer(true, { text: ['Hel'], finishReason: 'length' });
    const stream = client.responses.stream({
      model: route.model,
      input: 'hi',
      max_output_tokens: 3,
    });
    const terminal: string[] = [];
    stream.on('response.incomplete', (event) => terminal.push(event.type));
    const final = await stream.finalResponse();
    expect(terminal).toEqual(['response.incomplete']);
    expect(final).toMatchObject({
      status: 'incomplete',
      incomplete_details: { reason: 'max_output_tokens' },
    });
  });

  it('a client abort mid-stream aborts the upstream request', async () => {
    gateway.upstream.enqueue(
      streamedAs(route.dialect, partialStream(route.dialect), { end: 'stall' }),
    );
    const stream = await client.responses.create({ model: route.model, input: 'hi', stream: true });
    for await (const event of stream) {
      if (event.type === 'response.output_text.delta') break;
    }
    const aborted = await gateway.upstream.waitForAbort(0, 2_000);
    expect(aborted.aborted).toBe(true);
  });

  it('an upstream failure before the first byte: the SDK error class and the envelope', async () => {
    for (const stream of [false, true]) {
      gateway.upstream.reset();
      gateway.upstream.enqueue({ status: 500, body: { error: { message: 'boom' } } });
      const id = nextRequestId();
      const error = await rejectionOf(
        client.responses.create(
          { model: route.model, input: 'hi', stream },
          { headers: { 'x-request-id': id } },
        ),
      );
      expectSdkError(
        error,
        InternalServerError,
        { status: 502, code: 'upstream_error', type: 'api_error', param: null },
        id,
      );
    }
  });

  it('an upstream failure after the first byte ends the stream with response.failed', async () => {
    gateway.upstream.enqueue(
      streamedAs(route.dialect, partialStream(route.dialect), { end: 'close' }),
    );
    const stream = await client.responses.create({ model: route.model, input: 'hi', stream: true });
    const events = await collect(stream);
    const first = events[0];
    const last = events.at(-1);
    if (first?.type !== 'response.created' || last?.type !== 'response.failed') {
      throw new Error(`unexpected first and last events: ${first?.type}, ${last?.type}`);
    }
    expect(last.response).toMatchObject({
      id: first.response.id,
      status: 'failed',
      error: { code: 'upstream_error' },
      output: [{ type: 'message', status: 'incomplete', content: [{ text: 'Hello there' }] }],
    });
  });

  it('the raw stream: event equals type, sequence numbers contiguous, one terminal event', async () => {
    answer(true, {
      text: ['Checking', ' the weather.'],
      calls: [{ name: 'get_weather', arguments: { location: 'Paris' } }],
      argumentPieces: 4,
    });
    const path = route.prefix === '' ? '/v1/responses' : `/${route.prefix}/v1/responses`;
    const response = await postChat(gateway.url, path, {
      model: route.model,
      input: 'What is the weather in Paris?',
      tools: [WEATHER_TOOL],
      stream: true,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const final = expectWellFormed(parseResponsesEvents(await response.text()));
    expect(final).toMatchObject({
      status: 'completed',
      output: [
        { type: 'message', content: [{ text: 'Checking the weather.' }] },
        { type: 'function_call', name: 'get_weather', arguments: '{"location":"Paris"}' },
      ],
    });
  });
});
