/**
 * JSON Schemas for `POST /v1/messages` and `/v1/messages/count_tokens`, compiled once by Fastify's
 * Ajv. Deliberately permissive: they check the fields the translation reads (types, required
 * fields, sizes) and allow every other property at every level, because Anthropic's clients add
 * fields and block types every month (`cache_control`, `context_management`, new tool fields) and
 * a refused request would break every request of a new client version. Nulls are allowed on the
 * optional fields and read as absent.
 */
import { ERROR_CODES } from '../../errors/error-codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { fromValidation } from '../../http/error-handler.js';

function nullable(schema: Record<string, unknown>): Record<string, unknown> {
  return { anyOf: [schema, { type: 'null' }] };
}

const block = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', maxLength: 64 } },
} as const;

const blocks = { type: 'array', maxItems: 4096, items: block } as const;

const message = {
  type: 'object',
  required: ['role', 'content'],
  properties: {
    // `system` is not Anthropic's, but Claude Code sends it when the model is not a Claude one.
    role: { enum: ['user', 'assistant', 'system'] },
    content: { anyOf: [{ type: 'string' }, blocks] },
  },
} as const;

const tool = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128 },
    type: { type: 'string' },
    description: { type: 'string' },
    input_schema: { type: 'object' },
  },
} as const;

const promptProperties = {
  model: { type: 'string', minLength: 1, maxLength: 256 },
  messages: { type: 'array', minItems: 1, maxItems: 10_000, items: message },
  system: nullable({ anyOf: [{ type: 'string' }, blocks] }),
  tools: nullable({ type: 'array', maxItems: 512, items: tool }),
  tool_choice: nullable({
    type: 'object',
    required: ['type'],
    properties: {
      type: { type: 'string' },
      name: { type: 'string' },
      disable_parallel_tool_use: { type: 'boolean' },
    },
  }),
} as const;

/** `POST /v1/messages`: `model`, `messages` and `max_tokens` are required. */
export const messagesRequestSchema = {
  type: 'object',
  required: ['model', 'messages', 'max_tokens'],
  properties: {
    ...promptProperties,
    max_tokens: { type: 'integer', minimum: 1 },
    stop_sequences: nullable({ type: 'array', maxItems: 64, items: { type: 'string' } }),
    stream: nullable({ type: 'boolean' }),
    temperature: nullable({ type: 'number', minimum: 0, maximum: 1 }),
    top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
    top_k: nullable({ type: 'integer', minimum: 0 }),
  },
} as const;

/** `POST /v1/messages/count_tokens`: the prompt part of a Messages request. */
export const countTokensRequestSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: promptProperties,
} as const;

/**
 * The plugin's schema error formatter: Anthropic answers a malformed request with a 400
 * `invalid_request_error`, not the gateway's 422, so its SDKs raise a `BadRequestError`. The
 * message and `param` are the gateway's own (they name the first offending field).
 */
export function messagesValidationError(
  errors: Parameters<typeof fromValidation>[0],
): GatewayError {
  const { message, param } = fromValidation(errors);
  const { code } = ERROR_CODES.INVALID_REQUEST;
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code, param });
}
