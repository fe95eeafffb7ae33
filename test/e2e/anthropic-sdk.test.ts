/**
 * The Anthropic SDK against the gateway over loopback, with the fake upstream speaking both
 * dialects (Ollama's NDJSON, Cerebras's OpenAI SSE) on their pinned prefixes: `messages.create`,
 * `messages.stream(…).finalMessage()`, a tool-use round trip, tool arguments streamed in many
 * pieces or sent whole, parallel calls, stop reasons, and what reaches the upstream. Slightly past
 * 300 lines: the scripted answers of both dialects sit beside the cases that use them.
 */
import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { MODELS, useAnthropicGateway } from '../helpers/anthropic-gateway.js';
import type { FakeResponse, RecordedRequest } from '../helpers/fake-upstream.js';
import {
  DEFAULT_REPLY,
  DEFAULT_REPLY_PIECES,
  ndjsonResponse,
  ollamaChatResponse,
  ollamaNdjsonLines,
  openAiCompletion,
  openAiSseEvents,
  SSE_DONE,
  sseEvent,
  sseResponse,
  type WireProvider,
} from '../helpers/fake-upstream-wire.js';

const DIALECTS: readonly WireProvider[] = ['ollama', 'cerebras'];
const QUESTION: Anthropic.MessageParam[] = [{ role: 'user', content: 'hi' }];
const WEATHER_TOOL: Anthropic.Tool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object',
    properties: { location: { type: 'string' } },
    required: ['location'],
  },
};
const WEATHER_QUESTION: Anthropic.MessageParam[] = [
  { role: 'user', content: 'What is the weather in Paris?' },
];

/** A Cerebras chunk with this delta (and finish reason, and extra choice fields). */
function cerebrasChunk(
  delta: Record<string, unknown>,
  finishReason: string | null = null,
  extra: Record<string, unknown> = {},
) {
  return sseEvent({
    id: 'chatcmpl-fake',
    object: 'chat.completion.chunk',
    created: 1,
    model: MODELS.cerebras,
    choices: [{ index: 0, delta, finish_reason: finishReason, ...extra }],
  });
}

const cerebrasUsage = sseEvent({
  id: 'chatcmpl-fake',
  object: 'chat.completion.chunk',
  created: 1,
  model: MODELS.cerebras,
  choices: [],
  usage: { prompt_tokens: 12, completion_tokens: 6, total_tokens: 18 },
});

/** A text answer in `dialect`, streamed or whole, ending for `reason` ('stop' or 'length'). */
function textAnswer(dialect: WireProvider, stream: boolean, reason = 'stop'): FakeResponse {
  const pieces = DEFAULT_REPLY_PIECES;
  if (dialect === 'ollama') {
    return stream
      ? ndjsonResponse(ollamaNdjsonLines(pieces, { doneReason: reason }))
      : { body: ollamaChatResponse({ content: DEFAULT_REPLY, doneReason: reason }) };
  }
  return stream
    ? sseResponse(openAiSseEvents(pieces, { includeUsage: true, finishReason: reason }))
    : { body: openAiCompletion({ content: DEFAULT_REPLY, finishReason: reason }) };
}

/** Two weather calls at once, Cerebras's arguments in single characters, Ollama's whole. */
function parallelCalls(dialect: WireProvider): FakeResponse {
  const cities = ['Paris', 'Rome'];
  if (dialect === 'ollama') {
    const toolCalls = cities.map((location) => ({
      function: { name: 'get_weather', arguments: { location } },
    }));
    return ndjsonResponse(ollamaNdjsonLines([], { toolCalls }));
  }
  const events = cities.flatMap((location, index) => {
    const head = { index, id: `call_${index}`, type: 'function' };
    return [
      cerebrasChunk({
        tool_calls: [{ ...head, function: { name: 'get_weather', arguments: '' } }],
      }),
      ...[...JSON.stringify({ location })].map((piece) =>
        cerebrasChunk({ tool_calls: [{ index, function: { arguments: piece } }] }),
      ),
    ];
  });
  return sseResponse([...events, cerebrasChunk({}, 'tool_calls'), cerebrasUsage, SSE_DONE]);
}

/** The messages of the chat request the upstream got (Ollama's and OpenAI's share this shape). */
function upstreamMessages(request: RecordedRequest | undefined): Record<string, unknown>[] {
  return (jsonOf(request) as { messages: Record<string, unknown>[] }).messages;
}

/** The JSON body of an upstream request; fails the test when there is none. */
function jsonOf(request: RecordedRequest | undefined): Record<string, unknown> {
  if (request === undefined) throw new Error('the upstream got no such request');
  return request.json as Record<string, unknown>;
}

describe.each(DIALECTS)('the Anthropic SDK on /%s/v1/messages', (dialect) => {
  const gateway = useAnthropicGateway();
  const model = MODELS[dialect];
  const client = () => gateway.client(dialect);

  it('creates a message', async () => {
    const message = await client().messages.create({ model, max_tokens: 64, messages: QUESTION });
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: DEFAULT_REPLY }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: 12,
        output_tokens: 6,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
    expect(message.id).toMatch(/^msg_/);
  });

  it('streams a message chunk by chunk, and finalMessage() adds it up', async () => {
    const stream = client().messages.stream({ model, max_tokens: 64, messages: QUESTION });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const message = await stream.finalMessage();
    expect(texts).toEqual(DEFAULT_REPLY_PIECES);
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_REPLY }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 6 });
  });

  it('runs a tool-use round trip', async () => {
    const first = await client()
      .messages.stream({ model, max_tokens: 64, messages: WEATHER_QUESTION, tools: [WEATHER_TOOL] })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content.find((block) => block.type === 'tool_use');
    expect(call).toMatchObject({ name: 'get_weather', input: { location: 'Paris' } });
    if (call?.type !== 'tool_use') throw new Error('no tool call');
    gateway.upstream.enqueue(textAnswer(dialect, false));
    const second = await client().messages.create({
      model,
      max_tokens: 64,
      tools: [WEATHER_TOOL],
      messages: [
        ...WEATHER_QUESTION,
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: call.id, content: 'Sunny, 21°C' }],
        },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: DEFAULT_REPLY }]);
    const sent = upstreamMessages(gateway.upstream.requests[1]);
    expect(sent[1]).toMatchObject({ role: 'assistant' });
    expect(JSON.stringify(sent[1])).toContain('Paris');
    expect(sent[2]).toMatchObject(
      dialect === 'ollama'
        ? { role: 'tool', content: 'Sunny, 21°C', tool_name: 'get_weather' }
        : { role: 'tool', content: 'Sunny, 21°C', tool_call_id: call.id },
    );
  });

  it('streams tool arguments as input_json_delta pieces that add up to the input', async () => {
    const pieces = [...'{"location": "Paris, France"}'];
    gateway.upstream.enqueue(
      dialect === 'ollama'
        ? ndjsonResponse(
            ollamaNdjsonLines([], {
              toolCalls: [
                { function: { name: 'get_weather', arguments: { location: 'Paris, France' } } },
              ],
            }),
          )
        : sseResponse(
            openAiSseEvents([], {
              includeUsage: true,
              toolCall: { name: 'get_weather', argumentPieces: pieces },
            }),
          ),
    );
    const stream = client().messages.stream({
      model,
      max_tokens: 64,
      messages: WEATHER_QUESTION,
      tools: [WEATHER_TOOL],
    });
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const message = await stream.finalMessage();
    // Cerebras's pieces are relayed as they came; Ollama sends the arguments whole, as one piece.
    expect(partials.length).toBe(dialect === 'ollama' ? 1 : pieces.length);
    expect(message.content).toEqual([
      expect.objectContaining({ type: 'tool_use', input: { location: 'Paris, France' } }),
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('keeps every one of parallel tool calls', async () => {
    gateway.upstream.enqueue(parallelCalls(dialect));
    const message = await client()
      .messages.stream({ model, max_tokens: 64, messages: WEATHER_QUESTION, tools: [WEATHER_TOOL] })
      .finalMessage();
    expect(message.content.map((block) => block.type === 'tool_use' && block.input)).toEqual([
      { location: 'Paris' },
      { location: 'Rome' },
    ]);
    const ids = message.content.map((block) => block.type === 'tool_use' && block.id);
    expect(new Set(ids).size).toBe(2);
    expect(message.stop_reason).toBe('tool_use');
  });

  it.each([false, true])('reports a length stop as max_tokens (stream: %s)', async (stream) => {
    gateway.upstream.enqueue(textAnswer(dialect, stream, 'length'));
    const request = { model, max_tokens: 3, messages: QUESTION };
    const message = stream
      ? await client().messages.stream(request).finalMessage()
      : await client().messages.create(request);
    expect(message.stop_reason).toBe('max_tokens');
    expect(message.stop_sequence).toBeNull();
  });

  it('sends stop_sequences upstream and reports the matched one when the upstream names it', async () => {
    if (dialect === 'cerebras') {
      // vLLM-style servers name the matched string on the finished choice.
      gateway.upstream.enqueue(
        sseResponse([
          cerebrasChunk({ role: 'assistant', content: 'Hello' }),
          cerebrasChunk({}, 'stop', { stop_reason: '###' }),
          cerebrasUsage,
          SSE_DONE,
        ]),
      );
    }
    const message = await client()
      .messages.stream({ model, max_tokens: 64, messages: QUESTION, stop_sequences: ['###'] })
      .finalMessage();
    const sent = jsonOf(gateway.upstream.requests[0]);
    if (dialect === 'ollama') {
      expect(sent.options).toMatchObject({ stop: ['###'] });
      // Ollama cuts the sequence and does not say it matched: a natural end looks the same.
      expect([message.stop_reason, message.stop_sequence]).toEqual(['end_turn', null]);
    } else {
      expect(sent.stop).toEqual(['###']);
      expect([message.stop_reason, message.stop_sequence]).toEqual(['stop_sequence', '###']);
    }
  });

  it("sends the system prompt without Claude Code's attribution line, and role: system as system", async () => {
    await client().messages.create({
      model,
      max_tokens: 64,
      system: [
        {
          type: 'text',
          text: 'x-anthropic-billing-header: cc_version=2.1.0.e3f; cc_entrypoint=cli; cch=9a1b2;',
        },
        { type: 'text', text: 'You are a coding agent.', cache_control: { type: 'ephemeral' } },
      ],
      messages: [
        { role: 'system', content: 'The model is local.' } as unknown as Anthropic.MessageParam,
        ...QUESTION,
      ],
    });
    expect(upstreamMessages(gateway.upstream.requests[0])).toEqual([
      { role: 'system', content: 'You are a coding agent.' },
      { role: 'system', content: 'The model is local.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(gateway.upstream.requests[0]?.body).not.toContain('billing');
  });
});

describe('the Anthropic SDK on /v1/messages, routed', () => {
  const gateway = useAnthropicGateway();

  it("serves a claude-* alias from the model the config maps it to, with Claude Code's ?beta=true", async () => {
    const message = await gateway
      .client()
      .beta.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: QUESTION });
    expect(message.content).toEqual([{ type: 'text', text: DEFAULT_REPLY }]);
    expect(message.model).toBe('claude-sonnet-4-5');
    const [request] = gateway.upstream.requests;
    expect(request?.path).toBe('/api/chat');
    expect(jsonOf(request).model).toBe(MODELS.ollama);
  });

  it('takes the key as x-api-key or as a Bearer token (ANTHROPIC_AUTH_TOKEN)', async () => {
    const bearer = gateway.client('', { authToken: 'canary-client-key-7f3a9c' });
    const message = await bearer.messages.create({ model: 'm', max_tokens: 8, messages: QUESTION });
    expect(message.type).toBe('message');
  });

  it('lists models in Anthropic’s format', async () => {
    const ids: string[] = [];
    for await (const model of gateway.client().models.list()) ids.push(model.id);
    expect(ids).toEqual(
      expect.arrayContaining(['claude-local', 'claude-sonnet-4-5', 'ollama/llama3.2:latest']),
    );
  });
});
