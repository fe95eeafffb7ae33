import { ERROR_CODES } from '../../errors/error-codes.js';
import { InvalidRequestError } from '../../errors/gateway-error.js';
import type { ChatRequest, ReasoningEffort, ResponseFormat } from '../../openai/chat-types.js';
import { type ToolCatalogue, toChatTools } from './responses-tools.js';
import type { ResponsesRequest, ResponsesTextFormat } from './responses-types.js';
import { toChatMessages } from './to-chat-messages.js';

/** A Responses request as the chat pipeline takes it, and what the way back needs to know. */
export interface ChatTranslation {
  readonly request: ChatRequest;
  /** Maps the upstream's function names back to the client's tools. */
  readonly catalogue: ToolCatalogue;
  /** Hosted tool types left out, for the log. */
  readonly droppedTools: readonly string[];
  /** Input item types left out (`reasoning`, …), for the log. */
  readonly droppedItems: readonly string[];
}

const REASONING_EFFORTS: ReadonlySet<string> = new Set<ReasoningEffort>([
  'none',
  'minimal',
  'low',
  'medium',
  'high',
  'xhigh',
  'max',
]);

/**
 * Translates a validated Responses request into a chat request. The gateway keeps no state, so a
 * request that continues a stored response or conversation is refused with
 * `previous_response_not_found` (400), naming the field. Fields with no chat counterpart that a
 * client sends anyway (`store`, `include`, `prompt_cache_key`, `client_metadata`,
 * `text.verbosity`, `reasoning.summary`, `metadata`, …) are accepted and not forwarded: not every
 * upstream takes unknown fields.
 */
export function toChatRequest(request: ResponsesRequest): ChatTranslation {
  rejectStoredState(request);
  const tools = toChatTools(request.tools, request.tool_choice);
  const { messages, droppedItems } = toChatMessages(request, tools.catalogue);
  const responseFormat = toResponseFormat(request.text?.format);
  const effort = request.reasoning?.effort;
  const chat: ChatRequest = {
    model: request.model,
    messages,
    ...(tools.tools === undefined ? {} : { tools: tools.tools }),
    ...(tools.toolChoice === undefined ? {} : { tool_choice: tools.toolChoice }),
    ...(tools.tools !== undefined && request.parallel_tool_calls != null
      ? { parallel_tool_calls: request.parallel_tool_calls }
      : {}),
    // The newer name: Cerebras documents it, Ollama reads either.
    ...(request.max_output_tokens == null
      ? {}
      : { max_completion_tokens: request.max_output_tokens }),
    ...(request.temperature == null ? {} : { temperature: request.temperature }),
    ...(request.top_p == null ? {} : { top_p: request.top_p }),
    ...(responseFormat === undefined ? {} : { response_format: responseFormat }),
    // An effort OpenAI adds later is left to the upstream's default rather than refused.
    ...(typeof effort === 'string' && REASONING_EFFORTS.has(effort)
      ? { reasoning_effort: effort as ReasoningEffort }
      : {}),
  };
  return {
    request: chat,
    catalogue: tools.catalogue,
    droppedTools: tools.dropped,
    droppedItems,
  };
}

function rejectStoredState(request: ResponsesRequest): void {
  const previous = request.previous_response_id;
  if (typeof previous === 'string' && previous !== '') {
    throw new InvalidRequestError(
      `Previous response '${previous.slice(0, 64)}' not found: this gateway stores no responses; send the whole conversation in 'input'.`,
      ERROR_CODES.PREVIOUS_RESPONSE_NOT_FOUND.code,
      'previous_response_id',
    );
  }
  if (request.conversation != null) {
    throw new InvalidRequestError(
      "Conversations are not stored by this gateway; send the whole conversation in 'input'.",
      ERROR_CODES.PREVIOUS_RESPONSE_NOT_FOUND.code,
      'conversation',
    );
  }
}

/** `text.format` → `response_format`: the json_schema fields move under `json_schema`. */
function toResponseFormat(
  format: ResponsesTextFormat | null | undefined,
): ResponseFormat | undefined {
  switch (format?.type) {
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema':
      return {
        type: 'json_schema',
        json_schema: {
          name: format.name ?? 'response',
          ...(format.schema === undefined ? {} : { schema: format.schema }),
          ...(format.strict == null ? {} : { strict: format.strict }),
        },
      };
    default:
      return undefined;
  }
}
