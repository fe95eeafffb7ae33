/**
 * The Cerebras (OpenAI-compatible) relay seen from both ends over loopback: the body and headers
 * the gateway sends upstream, vendor extras kept in the answer, and the streamed usage contract.
 */
import type OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REPLY } from '../helpers/fake-upstream-wire.js';
import { CLIENT_KEY, PROVIDER_KEY, startGateway, useGateway } from '../helpers/gateway-harness.js';
import {
  clientHeaders,
  collect,
  extra,
  MESSAGES,
  onlyRequest,
} from '../helpers/openai-sdk-helpers.js';

type Chunk = OpenAI.Chat.ChatCompletionChunk;

const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    parameters: { type: 'object', properties: { location: { type: 'string' } } },
  },
};
const DROPPED = [
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'parallel_tool_calls',
  'service_tier',
];

const gateway = useGateway();
let client: OpenAI;
beforeAll(() => {
  client = gateway.client('cerebras');
});

describe('Cerebras request relay on the wire', () => {
  const withUnsupported = {
    model: 'llama3.1-8b',
    messages: MESSAGES,
    max_tokens: 100,
    temperature: 0.2,
    seed: 7,
    user: 'end-user-1',
    frequency_penalty: 0.5,
    presence_penalty: 0.1,
    logit_bias: { '50256': -100 },
    parallel_tool_calls: false,
    service_tier: 'auto' as const,
    tools: [WEATHER_TOOL],
  };

  it('drops the fields Cerebras refuses and renames max_tokens (JSON)', async () => {
    await client.chat.completions.create(withUnsupported);
    const sent = onlyRequest(gateway.upstream);
    expect(sent.path).toBe('/v1/chat/completions');
    for (const field of DROPPED) expect(sent.json, field).not.toHaveProperty(field);
    expect(sent.json).not.toHaveProperty('max_tokens');
    expect(sent.json).toEqual({
      model: 'llama3.1-8b',
      messages: MESSAGES,
      max_completion_tokens: 100,
      temperature: 0.2,
      seed: 7,
      user: 'end-user-1',
      tools: [WEATHER_TOOL],
      stream: false,
    });
  });

  it('does the same for streams', async () => {
    await collect(await client.chat.completions.create({ ...withUnsupported, stream: true }));
    const sent = onlyRequest(gateway.upstream);
    for (const field of [...DROPPED, 'max_tokens']) {
      expect(sent.json, field).not.toHaveProperty(field);
    }
    expect(sent.json).toMatchObject({ max_completion_tokens: 100, stream: true, temperature: 0.2 });
  });

  it('keeps max_completion_tokens when the client sends both names', async () => {
    await client.chat.completions.create({
      model: 'llama3.1-8b',
      messages: MESSAGES,
      max_tokens: 100,
      max_completion_tokens: 40,
    });
    const sent = onlyRequest(gateway.upstream);
    expect(sent.json).toMatchObject({ max_completion_tokens: 40 });
    expect(sent.json).not.toHaveProperty('max_tokens');
  });

  it("authenticates upstream with the gateway's provider key, never the client's", async () => {
    await client.chat.completions.create({ model: 'llama3.1-8b', messages: MESSAGES });
    const { headers } = onlyRequest(gateway.upstream);
    expect(headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    expect(headers['content-type']).toBe('application/json');
    expect(JSON.stringify(headers)).not.toContain(CLIENT_KEY);
  });
});

describe('Cerebras responses as the SDK sees them', () => {
  it('keeps time_info, usage.prompt_tokens_details and system_fingerprint', async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.1-8b',
      messages: MESSAGES,
    });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    expect(completion.system_fingerprint).toBe('fp_fake');
    expect(completion.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 6,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(extra(completion, 'time_info')).toEqual({
      queue_time: 0.0001,
      prompt_time: 0.0002,
      completion_time: 0.003,
      total_time: 0.004,
      created: 1_760_000_000,
    });
  });

  it('relays tool calls (JSON)', async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.1-8b',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [WEATHER_TOOL],
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.tool_calls).toEqual([
      {
        id: 'call_fake_0001',
        type: 'function',
        function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
      },
    ]);
  });

  it('relays streamed tool calls whose arguments arrive in pieces', async () => {
    const stream = await client.chat.completions.create({
      model: 'llama3.1-8b',
      messages: [{ role: 'user', content: 'weather in Paris?' }],
      tools: [WEATHER_TOOL],
      stream: true,
    });
    const chunks = await collect(stream);
    const deltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThan(1);
    expect(new Set(deltas.map((delta) => delta.index))).toEqual(new Set([0]));
    const ids = deltas.flatMap((delta) => (delta.id === undefined ? [] : [delta.id]));
    expect(ids).toEqual(['call_fake_0001']);
    const args = deltas.map((delta) => delta.function?.arguments ?? '').join('');
    expect(args).toBe('{"location":"Paris"}');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });
});

describe('stream_options.include_usage', () => {
  async function streamChunks(prefix: string, includeUsage: boolean | undefined): Promise<Chunk[]> {
    const stream = await gateway.client(prefix).chat.completions.create({
      model: 'llama3.1-8b',
      messages: MESSAGES,
      stream: true,
      ...(includeUsage === undefined ? {} : { stream_options: { include_usage: includeUsage } }),
    });
    return collect(stream);
  }

  it('with include_usage: exactly one chunk with choices: [] and usage, right before the end', async () => {
    const chunks = await streamChunks('cerebras', true);
    const usageChunks = chunks.filter((chunk) => chunk.choices.length === 0);
    expect(usageChunks).toHaveLength(1);
    expect(chunks.at(-1)).toBe(usageChunks[0]);
    expect(usageChunks[0]?.usage).toEqual({
      prompt_tokens: 12,
      completion_tokens: 6,
      total_tokens: 18,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    expect(chunks.slice(0, -1).filter((chunk) => chunk.usage != null)).toEqual([]);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  for (const includeUsage of [undefined, false]) {
    it(`without include_usage (${String(includeUsage)}): no chunk without choices, no usage`, async () => {
      const chunks = await streamChunks('cerebras', includeUsage);
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.filter((chunk) => chunk.choices.length === 0)).toEqual([]);
      expect(chunks.filter((chunk) => chunk.usage != null)).toEqual([]);
      expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    });
  }

  for (const prefix of ['cerebras', 'ollama']) {
    it(`${prefix}, raw bytes: the usage event is the last before [DONE]`, async () => {
      const post = (includeUsage: boolean) =>
        fetch(`${gateway.url}/${prefix}/v1/chat/completions`, {
          method: 'POST',
          headers: clientHeaders(),
          body: JSON.stringify({
            model: 'm',
            messages: MESSAGES,
            stream: true,
            stream_options: { include_usage: includeUsage },
          }),
        }).then((response) => response.text());
      const events = (await post(true)).split('\n\n').filter((event) => event !== '');
      expect(events.at(-1)).toBe('data: [DONE]');
      const last = JSON.parse((events.at(-2) ?? '').replace(/^data: /, '')) as unknown;
      expect(last).toMatchObject({ choices: [], usage: { total_tokens: 18 } });
      expect(events.filter((event) => event.includes('"usage"'))).toHaveLength(1);

      const without = await post(false);
      expect(without).not.toContain('"usage"');
      expect(without).not.toContain('"choices":[]');
      expect(without.endsWith('data: [DONE]\n\n')).toBe(true);
    });
  }
});

describe('routing by model on /v1', () => {
  it('sends cerebras/<model> to Cerebras with the prefix removed', async () => {
    const harness = await startGateway();
    try {
      const completion = await harness.client('').chat.completions.create({
        model: 'cerebras/llama-3.3-70b',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe('Hello from the fake upstream!');
      const sent = onlyRequest(harness.upstream);
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.json).toMatchObject({ model: 'llama-3.3-70b' });
      expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
    } finally {
      await harness.close();
    }
  });
});
