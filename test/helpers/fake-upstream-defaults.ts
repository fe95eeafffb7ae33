/**
 * What the fake upstream answers when nothing is queued: realistic Cerebras (OpenAI-compatible)
 * and Ollama answers, so end-to-end tests need no scripting.
 */
import type { FakeResponse, RecordedRequest } from './fake-upstream.js';
import {
  DEFAULT_OLLAMA_MODEL,
  DEFAULT_OPENAI_MODEL,
  DEFAULT_REPLY_PIECES,
  DEFAULT_TOOL_ARGUMENTS,
  ndjsonResponse,
  type OllamaToolCallWire,
  ollamaChatResponse,
  ollamaNdjsonLines,
  ollamaTags,
  openAiCompletion,
  openAiModelList,
  openAiSseEvents,
  sseResponse,
} from './fake-upstream-wire.js';

/** The version `GET /api/version` reports. */
export const FAKE_OLLAMA_VERSION = '0.12.0';

/**
 * The default answer to a request: `POST …/chat/completions`, `GET …/models`, `POST /api/chat`,
 * `GET /api/tags`, `GET /api/version`; anything else is a 404 JSON error.
 */
export function defaultFakeResponse(
  request: RecordedRequest,
  replyPieces: readonly string[] = DEFAULT_REPLY_PIECES,
): FakeResponse {
  // Split rather than `new URL()`: a path starting with `//` would be read as a host.
  const pathname = request.path.split('?')[0] ?? '';
  const route = `${request.method} ${pathname}`;
  if (request.method === 'POST' && pathname.endsWith('/chat/completions')) {
    return openAiChat(request.json, replyPieces);
  }
  if (request.method === 'GET' && pathname.endsWith('/models')) return { body: openAiModelList() };
  if (request.method === 'POST' && pathname.endsWith('/embeddings')) {
    return openAiEmbeddings(request.json);
  }
  switch (route) {
    case 'POST /api/chat':
      return ollamaChat(request.json, replyPieces);
    case 'POST /api/embed':
      return ollamaEmbed(request.json);
    case 'GET /api/tags':
      return { body: ollamaTags() };
    case 'GET /api/version':
      return { body: { version: FAKE_OLLAMA_VERSION } };
    default:
      return {
        status: 404,
        body: { error: { message: `no route for ${route}`, type: 'not_found_error', code: null } },
      };
  }
}

function openAiChat(json: unknown, replyPieces: readonly string[]): FakeResponse {
  if (!isRecord(json)) {
    const error = { message: 'body must be a JSON object', type: 'invalid_request_error' };
    return { status: 400, body: { error: { ...error, param: null, code: 'invalid_json' } } };
  }
  const model = typeof json.model === 'string' ? json.model : DEFAULT_OPENAI_MODEL;
  const toolName = weatherToolName(json);
  const argumentsJson = JSON.stringify(DEFAULT_TOOL_ARGUMENTS);
  if (json.stream === true) {
    const includeUsage =
      isRecord(json.stream_options) && json.stream_options.include_usage === true;
    if (toolName === undefined) {
      return sseResponse(openAiSseEvents(replyPieces, { model, includeUsage }));
    }
    // Arguments split mid-JSON, as real vendors stream them.
    const argumentPieces = [argumentsJson.slice(0, 5), argumentsJson.slice(5)];
    const toolCall = { name: toolName, argumentPieces };
    return sseResponse(openAiSseEvents([], { model, includeUsage, toolCall }));
  }
  if (toolName === undefined)
    return { body: openAiCompletion({ model, content: replyPieces.join('') }) };
  const toolCall = {
    id: 'call_fake_0001',
    type: 'function' as const,
    function: { name: toolName, arguments: argumentsJson },
  };
  return { body: openAiCompletion({ model, toolCalls: [toolCall] }) };
}

function ollamaChat(json: unknown, replyPieces: readonly string[]): FakeResponse {
  // Ollama's own error shape is a bare string.
  if (!isRecord(json)) return { status: 400, body: { error: 'invalid request body' } };
  const model = typeof json.model === 'string' ? json.model : DEFAULT_OLLAMA_MODEL;
  const toolName = weatherToolName(json);
  const toolCalls: OllamaToolCallWire[] | undefined =
    toolName === undefined
      ? undefined
      : [{ function: { name: toolName, arguments: { ...DEFAULT_TOOL_ARGUMENTS } } }];
  const options = toolCalls === undefined ? { model } : { model, toolCalls };
  // Ollama streams unless told `"stream": false`.
  if (json.stream === false) {
    const content = toolCalls === undefined ? replyPieces.join('') : '';
    return { body: ollamaChatResponse({ ...options, content }) };
  }
  const pieces = toolCalls === undefined ? replyPieces : [];
  return ndjsonResponse(ollamaNdjsonLines(pieces, options));
}

/** The first tool's name if the request has tools and its last user message mentions weather. */
function weatherToolName(json: Record<string, unknown>): string | undefined {
  const tool: unknown = Array.isArray(json.tools) ? json.tools[0] : undefined;
  if (!isRecord(tool) || !isRecord(tool.function) || typeof tool.function.name !== 'string') {
    return undefined;
  }
  const messages = Array.isArray(json.messages) ? (json.messages as unknown[]) : [];
  const lastUser = messages.findLast((message) => isRecord(message) && message.role === 'user');
  return /\bweather\b/i.test(messageText(lastUser)) ? tool.function.name : undefined;
}

/** Text of a message whose content is a string or an array of `{ type: 'text', text }` parts. */
function messageText(message: unknown): string {
  if (!isRecord(message)) return '';
  if (typeof message.content === 'string') return message.content;
  if (!Array.isArray(message.content)) return '';
  return message.content
    .map((part: unknown) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .join(' ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deterministic vector per input: [index, length of the text, 0.5]. */
function fakeVectors(input: unknown): number[][] {
  const texts = Array.isArray(input) ? input : [input];
  return texts.map((text, index) => [index, String(text).length, 0.5]);
}

function openAiEmbeddings(json: unknown): FakeResponse {
  if (!isRecord(json)) return { status: 400, body: { error: { message: 'bad body' } } };
  const base64 = json.encoding_format === 'base64';
  const data = fakeVectors(json.input).map((vector, index) => ({
    object: 'embedding',
    index,
    embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
  }));
  const usage = { prompt_tokens: data.length * 3, total_tokens: data.length * 3 };
  return { body: { object: 'list', data, model: json.model, usage } };
}

function ollamaEmbed(json: unknown): FakeResponse {
  if (!isRecord(json)) return { status: 400, body: { error: 'invalid request body' } };
  const embeddings = fakeVectors(json.input);
  return {
    body: {
      model: json.model,
      embeddings,
      total_duration: 1_000_000,
      load_duration: 100_000,
      prompt_eval_count: embeddings.length * 3,
    },
  };
}
