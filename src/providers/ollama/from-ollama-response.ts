import { UpstreamError } from '../../errors/gateway-error.js';
import type {
  ChatCompletion,
  FinishReason,
  ModelInfo,
  ToolCall,
  Usage,
} from '../../openai/chat-types.js';
import type { OllamaChatResponse, OllamaTagsResponse, OllamaToolCall } from './ollama-wire.js';

/** Call-site options for {@link fromOllamaChatResponse}. */
export interface FromOllamaResponseOptions {
  /** The completion id, e.g. `chatcmpl-…`. */
  readonly id: string;
  /** A unique suffix for each `call_…` tool-call id. */
  readonly generateId: () => string;
  /** Milliseconds since the epoch; used when `created_at` cannot be read. */
  readonly now: () => number;
}

/**
 * Translates a non-streaming `/api/chat` response into an OpenAI `chat.completion`. A response
 * without `done: true` is incomplete and throws {@link UpstreamError} rather than pass as success.
 */
export function fromOllamaChatResponse(
  response: OllamaChatResponse,
  options: FromOllamaResponseOptions,
): ChatCompletion {
  if (!response.done) {
    throw new UpstreamError('The ollama upstream returned an unfinished response.');
  }
  const toolCalls = (response.message.tool_calls ?? []).map((call) =>
    toOpenAiToolCall(call, options.generateId),
  );
  const { content, thinking } = response.message;
  return {
    id: options.id,
    object: 'chat.completion',
    created: toUnixSeconds(response.created_at, options.now),
    model: response.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content alongside tool calls; Ollama sends ''.
          content: content === '' && toolCalls.length > 0 ? null : content,
          ...(thinking === undefined || thinking === '' ? {} : { reasoning_content: thinking }),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toFinishReason(response.done_reason, toolCalls.length > 0),
      },
    ],
    usage: toUsage(response),
  };
}

/**
 * Ollama `done_reason` → OpenAI `finish_reason`. Tool calls win, as with OpenAI. `load` (an empty
 * conversation only loads the model), `unload` and reasons Ollama may add later end normally.
 */
export function toFinishReason(
  doneReason: string | undefined,
  sawToolCalls: boolean,
): FinishReason {
  if (sawToolCalls) return 'tool_calls';
  return doneReason === 'length' ? 'length' : 'stop';
}

/** OpenAI tool call from an Ollama one: a fresh id, and the arguments object as a JSON string. */
export function toOpenAiToolCall(call: OllamaToolCall, generateId: () => string): ToolCall {
  return {
    id: `call_${generateId()}`,
    type: 'function',
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) },
  };
}

/** Usage from Ollama's counts; Go's `omitempty` drops a count of 0, so missing means 0. */
export function toUsage(
  response: Pick<OllamaChatResponse, 'prompt_eval_count' | 'eval_count'>,
): Usage {
  const promptTokens = response.prompt_eval_count ?? 0;
  const completionTokens = response.eval_count ?? 0;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/**
 * RFC 3339 timestamp → unix seconds. Ollama writes Go's zero time (`0001-01-01T00:00:00Z`) when it
 * has none, so anything unparsable or not after the epoch falls back to `now()`.
 */
export function toUnixSeconds(timestamp: string, now: () => number): number {
  const milliseconds = Date.parse(timestamp);
  const valid = Number.isFinite(milliseconds) && milliseconds > 0;
  return Math.floor((valid ? milliseconds : now()) / 1000);
}

/**
 * `GET /api/tags` → OpenAI model entries (`id` is the Ollama name, e.g. `llama3.2:3b`). A
 * `modified_at` that cannot be read gives `created: 0` so the listing stays deterministic.
 */
export function fromOllamaTags(tags: OllamaTagsResponse): ModelInfo[] {
  return tags.models.map((model) => ({
    id: model.name,
    object: 'model',
    created: toUnixSeconds(model.modified_at, () => 0),
    owned_by: 'ollama',
  }));
}
