import { ValidationError } from '../../errors/gateway-error.js';
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  ReasoningEffort,
  ResponseFormat,
} from '../../openai/chat-types.js';
import type {
  OllamaChatRequest,
  OllamaMessage,
  OllamaOptions,
  OllamaRole,
  OllamaThink,
  OllamaTool,
  OllamaToolCall,
} from './ollama-wire.js';

/**
 * Translates an OpenAI chat request into an Ollama `/api/chat` body. Fields Ollama cannot honour
 * (`n` > 1, `logprobs`, `top_logprobs`, `logit_bias`, a forced `tool_choice`, remote image URLs,
 * non-text non-image content) are rejected with a 422 {@link ValidationError} naming the field,
 * never dropped silently. `stream` is always written because Ollama streams when it is absent.
 * The caller may override `model` or add `keep_alive` by spreading the result.
 */
export function toOllamaChatRequest(request: ChatRequest, stream: boolean): OllamaChatRequest {
  rejectUnsupported(request);
  const options = toOllamaOptions(request);
  const format = toOllamaFormat(request.response_format);
  const tools = toOllamaTools(request);
  const think = toOllamaThink(request.reasoning_effort);
  return {
    model: request.model,
    messages: toOllamaMessages(request.messages),
    stream,
    ...(options === undefined ? {} : { options }),
    ...(format === undefined ? {} : { format }),
    ...(tools === undefined ? {} : { tools }),
    ...(think === undefined ? {} : { think }),
  };
}

function rejectUnsupported(request: ChatRequest): void {
  if (isPresent(request.n) && request.n > 1) {
    throw new ValidationError('Ollama can generate only one choice; set n to 1.', 'n');
  }
  if (request.logprobs === true) {
    throw new ValidationError('logprobs are not supported for Ollama models.', 'logprobs');
  }
  if (isPresent(request.top_logprobs) && request.top_logprobs > 0) {
    throw new ValidationError('top_logprobs is not supported for Ollama models.', 'top_logprobs');
  }
  if (isPresent(request.logit_bias) && Object.keys(request.logit_bias).length > 0) {
    throw new ValidationError('logit_bias is not supported for Ollama models.', 'logit_bias');
  }
  const choice = request.tool_choice;
  // Ollama has no way to force a tool call; `none` is honoured by not sending the tools.
  if (isPresent(choice) && choice !== 'auto' && choice !== 'none') {
    throw new ValidationError(
      "Ollama cannot force a tool call; use tool_choice 'auto' or 'none'.",
      'tool_choice',
    );
  }
  // parallel_tool_calls is not rejected: `false` only limits the model, which may still comply.
}

/** Converts the conversation; tool results get the function name from the matching earlier call. */
function toOllamaMessages(messages: readonly ChatMessage[]): OllamaMessage[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, messageIndex) => {
    const param = `messages[${messageIndex}]`;
    const { content, images } = toOllamaContent(message.content, param);
    const converted: {
      role: OllamaRole;
      content: string;
      images?: string[];
      tool_calls?: OllamaToolCall[];
      tool_name?: string;
      thinking?: string;
    } = { role: toOllamaRole(message.role), content };
    if (images.length > 0) converted.images = images;
    if (message.role === 'assistant') {
      if (message.tool_calls !== undefined && message.tool_calls.length > 0) {
        converted.tool_calls = message.tool_calls.map((call, callIndex) => {
          toolNames.set(call.id, call.function.name);
          const argumentsParam = `${param}.tool_calls[${callIndex}].function.arguments`;
          return {
            function: {
              name: call.function.name,
              arguments: parseToolArguments(call.function.arguments, argumentsParam),
            },
          };
        });
      }
      if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
        converted.thinking = message.reasoning_content;
      }
    }
    if (message.role === 'tool' && message.tool_call_id !== undefined) {
      const toolName = toolNames.get(message.tool_call_id);
      if (toolName !== undefined) converted.tool_name = toolName;
    }
    return converted;
  });
}

function toOllamaRole(role: ChatMessage['role']): OllamaRole {
  return role === 'developer' ? 'system' : role;
}

/**
 * Text parts are joined with newlines (Ollama's own OpenAI layer sends each part as a separate
 * message, so parts are separate blocks, not fragments of a word); images become base64 data.
 */
function toOllamaContent(
  content: ChatMessage['content'],
  param: string,
): { content: string; images: string[] } {
  if (content === undefined || content === null) return { content: '', images: [] };
  if (typeof content === 'string') return { content, images: [] };
  const texts: string[] = [];
  const images: string[] = [];
  content.forEach((part, partIndex) => {
    const partParam = `${param}.content[${partIndex}]`;
    if (isTextPart(part)) texts.push(part.text);
    else if (isImagePart(part)) images.push(toBase64Image(part.image_url.url, partParam));
    else {
      throw new ValidationError(
        `Content parts of type '${part.type}' are not supported for Ollama models.`,
        `${partParam}.type`,
      );
    }
  });
  return { content: texts.join('\n'), images };
}

function isTextPart(part: ContentPart): part is { readonly type: 'text'; readonly text: string } {
  return part.type === 'text' && 'text' in part && typeof part.text === 'string';
}

function isImagePart(
  part: ContentPart,
): part is { readonly type: 'image_url'; readonly image_url: { readonly url: string } } {
  return (
    part.type === 'image_url' &&
    'image_url' in part &&
    typeof part.image_url === 'object' &&
    part.image_url !== null &&
    'url' in part.image_url &&
    typeof part.image_url.url === 'string'
  );
}

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,([a-z0-9+/=\s]+)$/i;

/** Ollama takes raw base64 only and does not fetch URLs, so remote images are refused. */
function toBase64Image(url: string, partParam: string): string {
  const data = DATA_URL.exec(url)?.[1]?.replace(/\s+/g, '');
  if (data !== undefined && data !== '') return data;
  const message = url.startsWith('data:')
    ? 'The image is not a base64 data URL of the form data:image/<type>;base64,<data>.'
    : 'Ollama accepts images only as base64 data URLs (data:image/…;base64,…), not remote URLs.';
  throw new ValidationError(message, `${partParam}.image_url.url`);
}

/** OpenAI sends arguments as a JSON string; Ollama wants the object. */
function parseToolArguments(text: string, param: string): Record<string, unknown> {
  // Some clients send '' for a call without arguments; that means {}.
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ValidationError('Tool call arguments must be a JSON object string.', param);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ValidationError('Tool call arguments must be a JSON object string.', param);
  }
  return parsed as Record<string, unknown>;
}

/** Sampling parameters under Ollama's names; `undefined` when there are none. */
function toOllamaOptions(request: ChatRequest): OllamaOptions | undefined {
  const options: { -readonly [Key in keyof OllamaOptions]: OllamaOptions[Key] } = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (isPresent(maxTokens)) options.num_predict = maxTokens;
  if (isPresent(request.temperature)) options.temperature = request.temperature;
  if (isPresent(request.top_p)) options.top_p = request.top_p;
  if (isPresent(request.seed)) options.seed = request.seed;
  if (isPresent(request.frequency_penalty)) options.frequency_penalty = request.frequency_penalty;
  if (isPresent(request.presence_penalty)) options.presence_penalty = request.presence_penalty;
  if (isPresent(request.stop)) {
    const stop = typeof request.stop === 'string' ? [request.stop] : [...request.stop];
    if (stop.length > 0) options.stop = stop;
  }
  return Object.keys(options).length > 0 ? options : undefined;
}

/** `json_object` → `'json'`; `json_schema` → the schema itself (Ollama's structured outputs). */
export function toOllamaFormat(
  responseFormat: ResponseFormat | null | undefined,
): OllamaChatRequest['format'] {
  if (!isPresent(responseFormat)) return undefined;
  switch (responseFormat.type) {
    case 'json_object':
      return 'json';
    case 'json_schema': {
      // The request schema requires it; checked again so a direct caller gets a 422, not a crash.
      const jsonSchema = (responseFormat as { json_schema?: { schema?: Record<string, unknown> } })
        .json_schema;
      if (jsonSchema === undefined || jsonSchema === null) {
        throw new ValidationError(
          'response_format of type json_schema needs a json_schema object.',
          'response_format.json_schema',
        );
      }
      // Without a schema the client asked only for JSON.
      return jsonSchema.schema ?? 'json';
    }
    default:
      return undefined;
  }
}

function toOllamaTools(request: ChatRequest): OllamaTool[] | undefined {
  if (!isPresent(request.tools) || request.tools.length === 0) return undefined;
  if (request.tool_choice === 'none') return undefined;
  return request.tools.map(toOllamaTool);
}

function toOllamaTool(tool: FunctionTool): OllamaTool {
  const { name, description, parameters } = tool.function;
  return {
    type: 'function',
    function: {
      name,
      ...(description === undefined ? {} : { description }),
      ...(parameters === undefined ? {} : { parameters }),
    },
  };
}

/**
 * `reasoning_effort` → `think`. Ollama accepts a boolean or a level `'low' | 'medium' | 'high'`
 * (docs/api.md, "think"); it has no `minimal`, so that becomes the lowest level, `xhigh` and `max`
 * become the highest, and `none` turns thinking off.
 */
export function toOllamaThink(effort: ReasoningEffort | null | undefined): OllamaThink | undefined {
  switch (effort) {
    case 'none':
      return false;
    case 'minimal':
      return 'low';
    case 'low':
    case 'medium':
    case 'high':
      return effort;
    case 'xhigh':
    case 'max':
      return 'high';
    default:
      return undefined;
  }
}

function isPresent<Value>(value: Value | null | undefined): value is Value {
  return value !== null && value !== undefined;
}
