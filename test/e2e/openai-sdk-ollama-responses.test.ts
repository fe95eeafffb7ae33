/**
 * Ollama answers as the `openai` SDK receives them over loopback: ids, timestamps, usage, tool
 * calls (JSON and streamed), reasoning, finish reasons and the `include_usage` stream contract.
 */
import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_REPLY,
  ndjsonResponse,
  ollamaChatResponse,
  ollamaNdjsonLines,
} from '../helpers/fake-upstream-wire.js';
import { useGateway } from '../helpers/gateway-harness.js';
import {
  collect,
  extra,
  MESSAGES,
  WEATHER_QUESTION,
  WEATHER_TOOL,
} from '../helpers/openai-sdk-helpers.js';

type Chunk = OpenAI.Chat.ChatCompletionChunk;

const CALL_ID = /^call_[A-Za-z0-9_-]+$/;

const gateway = useGateway();
let client: OpenAI;
beforeAll(() => {
  client = gateway.client('ollama');
});

describe('Ollama responses as the SDK sees them', () => {
  it('gives every completion its own chatcmpl- id', async () => {
    const ids = new Set<string>();
    for (let round = 0; round < 3; round += 1) {
      const completion = await client.chat.completions.create({ model: 'm', messages: MESSAGES });
      expect(completion.id).toMatch(/^chatcmpl-[A-Za-z0-9_-]{8,}$/);
      ids.add(completion.id);
      const stream = await client.chat.completions.create({
        model: 'm',
        messages: MESSAGES,
        stream: true,
      });
      const chunks = await collect(stream);
      const streamIds = new Set(chunks.map((chunk) => chunk.id));
      const created = new Set(chunks.map((chunk) => chunk.created));
      expect(created.size).toBe(1);
      for (const seconds of created) expect(Number.isInteger(seconds) && seconds < 1e10).toBe(true);
      expect(streamIds.size).toBe(1);
      for (const id of streamIds) ids.add(id);
    }
    expect(ids.size).toBe(6);
  });

  it('takes created from created_at and usage from the eval counts', async () => {
    gateway.upstream.enqueue({
      body: {
        ...ollamaChatResponse({ model: 'llama3.2', promptEvalCount: 31, evalCount: 7 }),
        created_at: '2024-01-02T03:04:05.123456789Z',
      },
    });
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: MESSAGES,
    });
    expect(completion.created).toBe(Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
    expect(completion.usage).toEqual({ prompt_tokens: 31, completion_tokens: 7, total_tokens: 38 });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
  });

  // BUG (src/providers/ollama/ollama-provider.ts streamChunks): the stream mapper is created
  // without `created`, so streamed chunks carry the gateway's clock while the JSON answer to the
  // same upstream carries Ollama's created_at. Remove `.fails` once chunks use the first line's
  // created_at.
  it('streamed chunks take created from created_at, as JSON answers do', async () => {
    gateway.upstream.enqueue(
      ndjsonResponse(
        ollamaNdjsonLines(['Hi']).map((line) =>
          line.replace('2025-10-09T08:53:20.000Z', '2024-01-02T03:04:05.000Z'),
        ),
      ),
    );
    const stream = await client.chat.completions.create({
      model: 'llama3.2',
      messages: MESSAGES,
      stream: true,
    });
    const created = new Set((await collect(stream)).map((chunk) => chunk.created));
    expect([...created]).toEqual([Date.UTC(2024, 0, 2, 3, 4, 5) / 1000]);
  });

  it('returns tool calls with string arguments, call_ ids and finish_reason tool_calls', async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: WEATHER_QUESTION,
      tools: [WEATHER_TOOL],
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    const calls = choice?.message.tool_calls ?? [];
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({
      id: expect.stringMatching(CALL_ID),
      type: 'function',
      function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
    });
  });

  it('streams tool calls: stable ids, indexes, string arguments, finish_reason tool_calls', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama3.2',
      messages: WEATHER_QUESTION,
      tools: [WEATHER_TOOL],
      stream: true,
    });
    const chunks = await collect(stream);
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThan(0);
    const ids = new Set(deltas.flatMap((delta) => (delta.id === undefined ? [] : [delta.id])));
    expect(ids.size).toBe(1);
    for (const id of ids) expect(id).toMatch(CALL_ID);
    expect(new Set(deltas.map((delta) => delta.index))).toEqual(new Set([0]));
    const name = deltas.map((delta) => delta.function?.name ?? '').join('');
    const args = deltas.map((delta) => delta.function?.arguments ?? '').join('');
    expect(name).toBe('get_weather');
    expect(JSON.parse(args)).toEqual({ location: 'Paris' });
    const finishReasons = chunks.flatMap((chunk) => chunk.choices.map((c) => c.finish_reason));
    expect(finishReasons.filter((reason) => reason !== null)).toEqual(['tool_calls']);
  });

  it('streams parallel tool calls that the SDK stream helper reassembles', async () => {
    gateway.upstream.enqueue(
      ndjsonResponse(
        ollamaNdjsonLines([], {
          toolCalls: [
            { function: { name: 'get_weather', arguments: { location: 'Paris' } } },
            { function: { name: 'get_weather', arguments: { location: 'Oslo' } } },
          ],
        }),
      ),
    );
    const runner = client.chat.completions.stream({
      model: 'llama3.2',
      messages: WEATHER_QUESTION,
      tools: [WEATHER_TOOL],
    });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const calls = choice?.message.tool_calls ?? [];
    const functions = calls.map((call) =>
      call.type === 'function' ? { name: call.function.name, args: call.function.arguments } : null,
    );
    expect(functions).toEqual([
      { name: 'get_weather', args: '{"location":"Paris"}' },
      { name: 'get_weather', args: '{"location":"Oslo"}' },
    ]);
    const [first, second] = calls;
    expect(first?.id).toMatch(CALL_ID);
    expect(second?.id).toMatch(CALL_ID);
    expect(first?.id).not.toBe(second?.id);
  });

  it('returns message.thinking as reasoning_content (JSON)', async () => {
    const base = ollamaChatResponse({ model: 'qwen3', content: '391' });
    gateway.upstream.enqueue({
      body: { ...base, message: { ...base.message, thinking: '17 × 23 = 340 + 51' } },
    });
    const completion = await client.chat.completions.create({ model: 'qwen3', messages: MESSAGES });
    const message = completion.choices[0]?.message;
    expect(message?.content).toBe('391');
    expect(extra(message, 'reasoning_content')).toBe('17 × 23 = 340 + 51');
  });

  it('streams message.thinking as reasoning_content deltas', async () => {
    const line = (message: Record<string, string>): string =>
      `${JSON.stringify({ model: 'qwen3', created_at: '2025-10-09T08:53:20.000Z', message, done: false })}\n`;
    const [final] = ollamaNdjsonLines([], { model: 'qwen3' });
    gateway.upstream.enqueue(
      ndjsonResponse([
        line({ role: 'assistant', content: '', thinking: 'Let me' }),
        line({ role: 'assistant', content: '', thinking: ' think.' }),
        line({ role: 'assistant', content: 'Done.' }),
        final ?? '',
      ]),
    );
    const stream = await client.chat.completions.create({
      model: 'qwen3',
      messages: MESSAGES,
      stream: true,
    });
    const chunks = await collect(stream);
    const reasoning = chunks
      .map((chunk) => extra(chunk.choices[0]?.delta, 'reasoning_content') ?? '')
      .join('');
    expect(reasoning).toBe('Let me think.');
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('Done.');
  });

  it("maps done_reason 'length' to finish_reason 'length'", async () => {
    gateway.upstream.enqueue({ body: ollamaChatResponse({ doneReason: 'length' }) });
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: MESSAGES,
      max_tokens: 6,
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
  });
});

describe('stream_options.include_usage through the Ollama route', () => {
  async function streamChunks(includeUsage: boolean | undefined): Promise<Chunk[]> {
    const stream = await client.chat.completions.create({
      model: 'llama3.2',
      messages: MESSAGES,
      stream: true,
      ...(includeUsage === undefined ? {} : { stream_options: { include_usage: includeUsage } }),
    });
    return collect(stream);
  }

  it('with include_usage: exactly one final chunk with choices: [] and the usage', async () => {
    const chunks = await streamChunks(true);
    const usageChunks = chunks.filter((chunk) => chunk.choices.length === 0);
    expect(usageChunks).toHaveLength(1);
    expect(chunks.at(-1)).toBe(usageChunks[0]);
    expect(usageChunks[0]?.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 6,
      total_tokens: 18,
    });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage == null)).toBe(true);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  for (const includeUsage of [undefined, false]) {
    it(`without include_usage (${String(includeUsage)}): no usage and every chunk has a choice`, async () => {
      const chunks = await streamChunks(includeUsage);
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
      expect(chunks.filter((chunk) => chunk.usage != null)).toEqual([]);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    });
  }
});
