/**
 * JSON Schema for `POST /v1/chat/completions`, compiled once by Fastify's Ajv. It bounds sizes and
 * ranges and rejects wrong types (422); fields it does not name pass through to OpenAI-compatible
 * upstreams untouched.
 */

/** Allows `null` too (OpenAI clients send explicit nulls), keeping Ajv's messages simple. */
function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  if (Array.isArray(schema.enum)) return { ...schema, enum: [...schema.enum, null] };
  return { anyOf: [schema, { type: 'null' }] };
}

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', maxLength: 64 },
    text: { type: 'string' },
    image_url: {
      type: 'object',
      required: ['url'],
      properties: { url: { type: 'string', minLength: 1 }, detail: { type: 'string' } },
    },
  },
} as const;

const toolCall = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: { type: 'string', maxLength: 256 },
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: { type: 'string', maxLength: 256 }, arguments: { type: 'string' } },
    },
  },
} as const;

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'developer', 'user', 'assistant', 'tool'] },
    content: {
      anyOf: [
        { type: 'string' },
        { type: 'array', maxItems: 1024, items: contentPart },
        { type: 'null' },
      ],
    },
    name: { type: 'string', maxLength: 256 },
    tool_calls: { type: 'array', maxItems: 128, items: toolCall },
    tool_call_id: { type: 'string', maxLength: 256 },
  },
} as const;

const tool = {
  type: 'object',
  required: ['type', 'function'],
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 64 },
        description: { type: 'string' },
        parameters: { type: 'object' },
      },
    },
  },
} as const;

export const chatRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: { type: 'array', minItems: 1, maxItems: 4096, items: message },
    stream: nullable({ type: 'boolean' }),
    stream_options: nullable({
      type: 'object',
      properties: { include_usage: { type: 'boolean' } },
    }),
    max_tokens: nullable({ type: 'integer', minimum: 1 }),
    max_completion_tokens: nullable({ type: 'integer', minimum: 1 }),
    temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
    top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
    seed: nullable({ type: 'integer' }),
    stop: nullable({
      anyOf: [{ type: 'string' }, { type: 'array', maxItems: 16, items: { type: 'string' } }],
    }),
    n: nullable({ type: 'integer', minimum: 1, maximum: 128 }),
    frequency_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
    presence_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
    logit_bias: nullable({ type: 'object', additionalProperties: { type: 'number' } }),
    logprobs: nullable({ type: 'boolean' }),
    top_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
    response_format: nullable({
      type: 'object',
      required: ['type'],
      properties: {
        type: { enum: ['text', 'json_object', 'json_schema'] },
        json_schema: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string' }, schema: { type: 'object' } },
        },
      },
      // OpenAI requires the schema object with type json_schema.
      if: { properties: { type: { const: 'json_schema' } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
      then: { required: ['json_schema'] },
    }),
    tools: nullable({ type: 'array', maxItems: 128, items: tool }),
    tool_choice: nullable({
      anyOf: [
        { enum: ['none', 'auto', 'required'] },
        {
          type: 'object',
          required: ['type', 'function'],
          properties: {
            type: { const: 'function' },
            function: {
              type: 'object',
              required: ['name'],
              properties: { name: { type: 'string' } },
            },
          },
        },
      ],
    }),
    parallel_tool_calls: nullable({ type: 'boolean' }),
    reasoning_effort: nullable({
      enum: ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'],
    }),
    user: { type: 'string', maxLength: 256 },
  },
} as const;
