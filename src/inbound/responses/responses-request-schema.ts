/**
 * JSON Schema for `POST /v1/responses`, compiled once by Fastify's Ajv. Permissive on purpose:
 * clients (Codex, the Agents SDK) add fields and item, tool and content types every few months,
 * so only what the gateway reads is checked (a wrong type is a 422 naming the field); everything
 * else passes. The items themselves are checked as they are translated (`to-chat-messages.ts`).
 */

/** Allows `null` too (OpenAI clients send explicit nulls). */
function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

const typedObject = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', maxLength: 128 } },
} as const;

const inputItems = { type: 'array', maxItems: 4096, items: { type: 'object' } } as const;

/** The body schema of `POST /v1/responses` (and its pinned twins). */
export const responsesRequestSchema = {
  type: 'object',
  required: ['model', 'input'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    input: { anyOf: [{ type: 'string' }, inputItems] },
    instructions: nullable({ anyOf: [{ type: 'string' }, inputItems] }),
    stream: nullable({ type: 'boolean' }),
    tools: nullable({ type: 'array', maxItems: 512, items: typedObject }),
    tool_choice: nullable({
      anyOf: [{ enum: ['none', 'auto', 'required'] }, typedObject],
    }),
    parallel_tool_calls: nullable({ type: 'boolean' }),
    max_output_tokens: nullable({ type: 'integer', minimum: 1 }),
    temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
    top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
    text: nullable({
      type: 'object',
      properties: {
        format: nullable({
          type: 'object',
          required: ['type'],
          properties: {
            type: { enum: ['text', 'json_object', 'json_schema'] },
            name: { type: 'string', maxLength: 256 },
            schema: { type: 'object' },
          },
        }),
      },
    }),
    reasoning: nullable({ type: 'object' }),
    previous_response_id: nullable({ type: 'string' }),
    metadata: nullable({ type: 'object' }),
  },
} as const;
