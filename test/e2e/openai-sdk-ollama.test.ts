/**
 * The Ollama translation on the wire over loopback: the `openai` SDK sends OpenAI requests, and the
 * fake upstream records the `/api/chat` JSON the gateway made of them. Requests Ollama cannot
 * honour are refused with a 422 before any upstream call. Responses: `openai-sdk-ollama-responses`.
 */
import OpenAI from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REPLY } from '../helpers/fake-upstream-wire.js';
import { useGateway } from '../helpers/gateway-harness.js';
import {
  collect,
  MESSAGES,
  onlyRequest,
  rejectionOf,
  UUID,
  WEATHER_QUESTION,
  WEATHER_TOOL,
} from '../helpers/openai-sdk-helpers.js';

type Params = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

const gateway = useGateway();
let client: OpenAI;
beforeAll(() => {
  client = gateway.client('ollama');
});

/** Sends `params` (non-streaming) and returns the JSON body the gateway sent to /api/chat. */
async function sentFor(params: Params): Promise<unknown> {
  await client.chat.completions.create(params);
  const sent = onlyRequest(gateway.upstream);
  expect(sent.path).toBe('/api/chat');
  return sent.json;
}

describe('Ollama request translation on the wire', () => {
  it('writes stream explicitly: false for JSON, true for streams', async () => {
    expect(await sentFor({ model: 'llama3.2', messages: MESSAGES })).toEqual({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
      stream: false,
    });
    gateway.upstream.reset();
    await collect(
      await client.chat.completions.create({ model: 'llama3.2', messages: MESSAGES, stream: true }),
    );
    expect(onlyRequest(gateway.upstream).json).toMatchObject({ stream: true });
  });

  it('maps max_tokens and max_completion_tokens to options.num_predict', async () => {
    const base = { model: 'llama3.2', messages: MESSAGES };
    expect(await sentFor({ ...base, max_tokens: 50 })).toMatchObject({
      options: { num_predict: 50 },
    });
    gateway.upstream.reset();
    expect(await sentFor({ ...base, max_completion_tokens: 70 })).toMatchObject({
      options: { num_predict: 70 },
    });
    gateway.upstream.reset();
    // The newer name wins when both are sent.
    expect(await sentFor({ ...base, max_tokens: 50, max_completion_tokens: 70 })).toMatchObject({
      options: { num_predict: 70 },
    });
  });

  it('puts the sampling parameters in options under their Ollama names', async () => {
    const sent = await sentFor({
      model: 'llama3.2',
      messages: MESSAGES,
      max_tokens: 64,
      temperature: 0.3,
      top_p: 0.9,
      seed: 42,
      stop: 'END',
      frequency_penalty: 0.5,
      presence_penalty: -0.5,
    });
    expect(sent).toMatchObject({
      options: {
        num_predict: 64,
        temperature: 0.3,
        top_p: 0.9,
        seed: 42,
        stop: ['END'],
        frequency_penalty: 0.5,
        presence_penalty: -0.5,
      },
    });
    expect(sent).not.toHaveProperty('temperature');
    expect(sent).not.toHaveProperty('max_tokens');
    gateway.upstream.reset();
    expect(
      await sentFor({ model: 'llama3.2', messages: MESSAGES, stop: ['A', 'B'] }),
    ).toMatchObject({ options: { stop: ['A', 'B'] } });
  });

  it("maps response_format: json_object → 'json', json_schema → the schema", async () => {
    expect(
      await sentFor({
        model: 'llama3.2',
        messages: MESSAGES,
        response_format: { type: 'json_object' },
      }),
    ).toMatchObject({ format: 'json' });
    gateway.upstream.reset();
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' } },
      required: ['city'],
      additionalProperties: false,
    };
    const sent = await sentFor({
      model: 'llama3.2',
      messages: MESSAGES,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema, strict: true } },
    });
    expect(sent).toMatchObject({ format: schema });
  });

  it('turns an image data URL content part into images: [base64]', async () => {
    const sent = await sentFor({
      model: 'llava',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this picture?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          ],
        },
      ],
    });
    expect(sent).toMatchObject({
      messages: [{ role: 'user', content: 'What is in this picture?', images: ['iVBORw0KGgo='] }],
    });
  });

  it('sends tools, assistant tool calls as objects, and resolves tool_name for tool results', async () => {
    const sent = await sentFor({
      model: 'llama3.2',
      tools: [WEATHER_TOOL],
      messages: [
        ...WEATHER_QUESTION,
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_abc',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_abc', content: '{"celsius":21}' },
      ],
    });
    expect(sent).toMatchObject({
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'What is the weather in Paris?' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'get_weather', arguments: { location: 'Paris' } } }],
        },
        { role: 'tool', content: '{"celsius":21}', tool_name: 'get_weather' },
      ],
    });
  });

  it('maps reasoning_effort to think', async () => {
    const cases = [
      ['high', 'high'],
      ['low', 'low'],
      ['minimal', 'low'],
      ['none', false],
    ] as const;
    for (const [effort, think] of cases) {
      gateway.upstream.reset();
      const sent = await sentFor({ model: 'qwen3', messages: MESSAGES, reasoning_effort: effort });
      expect(sent, effort).toMatchObject({ think });
    }
  });
  it("does not send tools with tool_choice 'none'", async () => {
    const sent = await sentFor({
      model: 'llama3.2',
      messages: WEATHER_QUESTION,
      tools: [WEATHER_TOOL],
      tool_choice: 'none',
    });
    expect(sent).not.toHaveProperty('tools');
  });
});

describe('requests Ollama cannot honour', () => {
  it('accepts the harmless values of those fields (n: 1, logprobs: false, auto)', async () => {
    const completion = await client.chat.completions.create({
      model: 'llama3.2',
      messages: MESSAGES,
      n: 1,
      logprobs: false,
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    });
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
    expect(gateway.upstream.requests).toHaveLength(1);
  });

  const unsupported: ReadonlyArray<readonly [string, Partial<Params>]> = [
    ['n', { n: 2 }],
    ['logprobs', { logprobs: true }],
    ['tool_choice', { tools: [WEATHER_TOOL], tool_choice: 'required' }],
    [
      'messages[0].content[0].image_url.url',
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'https://x.test/a.png' } }],
          },
        ],
      },
    ],
  ];
  for (const [param, fields] of unsupported) {
    it(`refuses ${param} Ollama cannot honour with a 422 and no upstream call`, async () => {
      for (const stream of [false, true]) {
        const error = await rejectionOf(
          client.chat.completions.create({
            model: 'llama3.2',
            messages: MESSAGES,
            ...fields,
            stream,
          }),
        );
        expect(error, `stream: ${stream}`).toBeInstanceOf(OpenAI.UnprocessableEntityError);
        expect(error).toMatchObject({
          status: 422,
          param,
          code: 'validation_error',
          type: 'invalid_request_error',
          requestID: expect.stringMatching(UUID),
        });
      }
      expect(gateway.upstream.requests).toHaveLength(0);
    });
  }
});
