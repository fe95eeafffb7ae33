/**
 * Property-based fuzzing (issue 5) of the Ollama converters: the request converter, fed any chat
 * request the schema lets through, and the stream chunk mapper and response converter, fed any
 * line of the shape the wire guard admits (or broken ones), either map or throw a GatewayError,
 * never a TypeError. The upstream parsers are fuzzed in ../shared/parsers.fuzz.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import type { ChatCompletionChunk, ChatRequest } from '../../openai/chat-types.js';
import { fromOllamaChatResponse } from './from-ollama-response.js';
import { createOllamaChunkMapper } from './ollama-stream.js';
import { isOllamaChatResponse } from './ollama-wire.js';
import { toOllamaChatRequest } from './to-ollama-request.js';

const RUNS = { numRuns: 300, plugins: [fc.timeout(2_000)] };

/** Any code point, plus what breaks naive code: lone surrogates, NUL, BOM, RTL, CR, LF. */
const hostileChar = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('\ud800', '\udfff', '\u0000', '\ufeff', '\u202e', '\r', '\n', '"', '\\'),
);
const text = fc.string({ unit: hostileChar, maxLength: 16 });

/** `null` or the value, as the schema's `nullable()` admits. */
const nullable = <Value>(arbitrary: fc.Arbitrary<Value>) => fc.option(arbitrary, { nil: null });
const jsonObject = fc.dictionary(text, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
const number = (min: number, max: number) =>
  fc.double({ min, max, noNaN: true, noDefaultInfinity: true });

/** Mostly `usual`, sometimes `rare`: requests Ollama refuses must not crowd out the rest. */
const mostly = <Usual, Rare>(
  usual: fc.Arbitrary<Usual>,
  rare: fc.Arbitrary<Rare>,
): fc.Arbitrary<Usual | Rare> =>
  fc.oneof({ weight: 9, arbitrary: usual }, { weight: 1, arbitrary: rare });

/** A chat request of any shape `chatRequestSchema` lets through (fields it names, plus extras). */
const chatRequest = (() => {
  const imageUrl = fc.record(
    {
      url: fc.oneof(
        fc.constantFrom('data:image/png;base64,iVBORw0K', 'data:image/png;base64,', 'data:,x'),
        fc.constant('https://example.test/cat.png'),
        text.filter((value) => value.length > 0),
      ),
      detail: text,
    },
    { requiredKeys: ['url'] },
  );
  const part = mostly(
    fc.record({ type: fc.constant('text'), text }),
    fc.oneof(
      fc.record({ type: fc.constant('image_url'), image_url: imageUrl }),
      fc.record({ type: text, text, image_url: imageUrl }, { requiredKeys: ['type'] }),
    ),
  );
  const toolArguments = mostly(
    jsonObject.map((value) => JSON.stringify(value)),
    fc.oneof(
      text,
      fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
    ),
  );
  const toolCall = fc.record({
    id: text,
    type: fc.constant('function'),
    function: fc.record({ name: text, arguments: toolArguments }),
  });
  const message = fc.record(
    {
      role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool'),
      content: fc.oneof(text, fc.constant(null), fc.array(part, { maxLength: 3 })),
      name: text,
      tool_calls: fc.array(toolCall, { maxLength: 3 }),
      tool_call_id: text,
      // Not in the schema, so anything passes through to the converter.
      reasoning_content: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: ['role'] },
  );
  const tool = fc.record({
    type: fc.constant('function'),
    function: fc.record(
      { name: text.filter((value) => value.length > 0), description: text, parameters: jsonObject },
      { requiredKeys: ['name'] },
    ),
  });
  const formatType = fc.constantFrom('text', 'json_object', 'json_schema');
  const jsonSchema = fc.record({ name: text, schema: jsonObject }, { requiredKeys: ['name'] });
  return fc
    .record(
      {
        model: text.filter((value) => value.length > 0),
        messages: fc.array(message, { minLength: 1, maxLength: 4 }),
        stream: nullable(fc.boolean()),
        max_tokens: nullable(fc.integer({ min: 1 })),
        max_completion_tokens: nullable(fc.integer({ min: 1 })),
        temperature: nullable(number(0, 2)),
        top_p: nullable(number(0, 1)),
        seed: nullable(fc.integer()),
        stop: nullable(fc.oneof(text, fc.array(text, { maxLength: 16 }))),
        n: nullable(mostly(fc.constant(1), fc.integer({ min: 2, max: 128 }))),
        frequency_penalty: nullable(number(-2, 2)),
        presence_penalty: nullable(number(-2, 2)),
        logit_bias: nullable(
          mostly(fc.constant({}), fc.dictionary(text, number(-100, 100), { maxKeys: 2 })),
        ),
        logprobs: nullable(mostly(fc.constant(false), fc.boolean())),
        top_logprobs: nullable(mostly(fc.constant(0), fc.integer({ min: 0, max: 20 }))),
        response_format: nullable(
          fc.oneof(
            fc.record({ type: formatType }),
            fc.record({ type: formatType, json_schema: jsonSchema }),
          ),
        ),
        tools: nullable(fc.array(tool, { maxLength: 3 })),
        tool_choice: nullable(
          mostly(
            fc.constantFrom('none', 'auto'),
            fc.oneof(
              fc.constant('required'),
              fc.record({ type: fc.constant('function'), function: fc.record({ name: text }) }),
            ),
          ),
        ),
        parallel_tool_calls: nullable(fc.boolean()),
        reasoning_effort: nullable(
          fc.constantFrom('none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'),
        ),
        user: text,
      },
      { requiredKeys: ['model', 'messages'] },
    )
    .map((request) => request as unknown as ChatRequest);
})();

describe('toOllamaChatRequest', () => {
  it('maps any schema-valid request or refuses it with a GatewayError, never a TypeError', () => {
    fc.assert(
      fc.property(chatRequest, fc.boolean(), (request, stream) => {
        try {
          const mapped = toOllamaChatRequest(request, stream);
          expect(mapped.stream).toBe(stream);
          expect(mapped.messages).toHaveLength(request.messages.length);
          expect(() => JSON.stringify(mapped)).not.toThrow();
        } catch (error) {
          // A request Ollama cannot honour is the client's to fix: 422, never a 5xx.
          expect(error).toBeInstanceOf(GatewayError);
          expect((error as GatewayError).status).toBe(422);
        }
      }),
      RUNS,
    );
  });

  // Once a TypeError (a 500 for a client mistake); the request schema now refuses it too.
  it('refuses response_format json_schema without json_schema with a GatewayError', () => {
    const request = { model: 'm', messages: [{ role: 'user', content: 'x' }] } as const;
    const withFormat = { ...request, response_format: { type: 'json_schema' } };
    expect(() => toOllamaChatRequest(withFormat as unknown as ChatRequest, false)).toThrow(
      GatewayError,
    );
  });
});

describe('the Ollama chunk mapper and response converter', () => {
  const toolCall = fc.record({
    function: fc.record(
      { name: text, arguments: jsonObject, index: fc.nat() },
      { requiredKeys: ['name', 'arguments'] },
    ),
  });
  const createdAt = fc.oneof(
    text,
    fc.constant('0001-01-01T00:00:00Z'),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  );
  /** Shaped like a `/api/chat` line (what isOllamaChatResponse admits) … */
  const line = fc.record(
    {
      model: text,
      created_at: createdAt,
      message: fc.record(
        {
          role: text,
          content: text,
          thinking: text,
          tool_calls: fc.array(toolCall, { maxLength: 2 }),
        },
        { requiredKeys: ['role', 'content'] },
      ),
      done: fc.boolean(),
      done_reason: text,
      prompt_eval_count: fc.nat(),
      eval_count: fc.nat(),
    },
    { requiredKeys: ['model', 'created_at', 'message', 'done'] },
  );
  /** … or an error line, any JSON, or a line with one field (or message field) broken. */
  const anyLine = fc.oneof(
    { weight: 6, arbitrary: line },
    { weight: 1, arbitrary: fc.record({ error: text }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          line,
          fc.constantFrom(
            'model',
            'created_at',
            'message',
            'done',
            'eval_count',
            'role',
            'content',
            'thinking',
            'tool_calls',
          ),
          fc.jsonValue({ maxDepth: 2 }),
        )
        .map(([value, name, broken]) =>
          ['role', 'content', 'thinking', 'tool_calls'].includes(name)
            ? { ...value, message: { ...value.message, [name]: broken } }
            : { ...value, [name]: broken },
        ),
    },
  );
  const options = () => {
    let sequence = 0;
    const generateId = () => {
      sequence += 1;
      return `id${sequence}`;
    };
    return { id: 'chatcmpl-fuzz', model: 'm', generateId, now: () => 1_700_000_000_000 };
  };

  /** Mostly real streams (lines, then one `done: true`), else any sequence of lines. */
  const stream = fc.oneof(
    fc
      .tuple(fc.array(line, { maxLength: 6 }), line)
      .map(([body, last]) => [
        ...body.map((value) => ({ ...value, done: false })),
        { ...last, done: true },
      ]),
    fc.array(anyLine, { maxLength: 8 }),
  );

  it('maps any sequence of lines or fails with a GatewayError; finished only after done', () => {
    fc.assert(
      fc.property(stream, (lines) => {
        const mapper = createOllamaChunkMapper(options());
        const chunks: ChatCompletionChunk[] = [];
        try {
          for (const value of lines) chunks.push(...mapper.map(value));
          mapper.finish();
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
          return;
        }
        // A stream that looks finished has exactly one finish_reason and consecutive tool indexes.
        const finishes = chunks.filter((chunk) => chunk.choices[0]?.finish_reason != null);
        expect(finishes).toHaveLength(1);
        const indexes = chunks.flatMap((chunk) =>
          (chunk.choices[0]?.delta.tool_calls ?? []).map((call) => call.index),
        );
        expect(indexes).toEqual(indexes.map((_, position) => position));
        expect(() => JSON.stringify(chunks)).not.toThrow();
      }),
      RUNS,
    );
  });

  it('converts any guarded non-streaming response or fails with a GatewayError', () => {
    fc.assert(
      fc.property(anyLine, (value) => {
        fc.pre(isOllamaChatResponse(value));
        try {
          expect(fromOllamaChatResponse(value, options()).object).toBe('chat.completion');
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
        }
      }),
      RUNS,
    );
  });
});
