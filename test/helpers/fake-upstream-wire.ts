/**
 * Builders for the bodies the fake upstream sends: OpenAI-compatible (Cerebras) JSON and SSE, and
 * Ollama's native JSON and NDJSON. Tests use them to script realistic answers with small changes.
 * Timestamps and ids are fixed so assertions stay stable. Past 300 lines because both vendors'
 * shapes sit side by side (half of it type declarations), so tests import one module.
 */
import type { FakeChunk, FakeResponse } from './fake-upstream.js';

/** The pieces every default answer streams; joined, they are {@link DEFAULT_REPLY}. */
export const DEFAULT_REPLY_PIECES: readonly string[] = [
  'Hello',
  ' from',
  ' the',
  ' fake',
  ' upstream',
  '!',
];
/** The text of every default answer. */
export const DEFAULT_REPLY = DEFAULT_REPLY_PIECES.join('');
/** Model echoed by OpenAI-style defaults when the request names none. */
export const DEFAULT_OPENAI_MODEL = 'llama3.1-8b';
/** Model echoed by Ollama defaults when the request names none, and listed by `/api/tags`. */
export const DEFAULT_OLLAMA_MODEL = 'llama3.2:latest';
/** Arguments of the default tool call (requests with `tools` asking about the weather). */
export const DEFAULT_TOOL_ARGUMENTS: Readonly<Record<string, string>> = { location: 'Paris' };
/** The SSE terminator of OpenAI-compatible streams. */
export const SSE_DONE = 'data: [DONE]\n\n';

const CREATED_SECONDS = 1_760_000_000;
const CREATED_AT_ISO = '2025-10-09T08:53:20.000Z';
const DEFAULT_PROMPT_TOKENS = 12;

/** OpenAI `usage`, with Cerebras' `prompt_tokens_details`. */
export interface OpenAiUsageWire {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}
/** Cerebras' extra timing block (seconds). */
export interface CerebrasTimeInfoWire {
  queue_time: number;
  prompt_time: number;
  completion_time: number;
  total_time: number;
  created: number;
}
/** One tool call in a non-streamed OpenAI message (arguments are a JSON string). */
export interface OpenAiToolCallWire {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}
/** A non-streamed `chat.completion`. */
export interface OpenAiCompletionWire {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: { role: 'assistant'; content: string | null; tool_calls?: OpenAiToolCallWire[] };
    finish_reason: string;
    logprobs: null;
  }>;
  usage: OpenAiUsageWire;
  time_info: CerebrasTimeInfoWire;
}
/** One streamed `chat.completion.chunk`. */
export interface OpenAiChunkWire {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string;
  choices: Array<{ index: number; delta: Record<string, unknown>; finish_reason: string | null }>;
  usage?: OpenAiUsageWire;
  time_info?: CerebrasTimeInfoWire;
}

/** Options shared by the OpenAI builders. */
export interface OpenAiBodyOptions {
  readonly id?: string;
  readonly model?: string;
  readonly finishReason?: string;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
}
/** A tool call to answer with; `argumentPieces` joined must be the JSON arguments string. */
export interface OpenAiToolCallOptions {
  readonly id?: string;
  readonly name: string;
  readonly argumentPieces: readonly string[];
}

function openAiUsage(promptTokens: number, completionTokens: number): OpenAiUsageWire {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
  };
}

function timeInfo(): CerebrasTimeInfoWire {
  return {
    queue_time: 0.0001,
    prompt_time: 0.0002,
    completion_time: 0.003,
    total_time: 0.004,
    created: CREATED_SECONDS,
  };
}

/** A `chat.completion` body; by default the {@link DEFAULT_REPLY} text with `finish_reason: "stop"`. */
export function openAiCompletion(
  options: OpenAiBodyOptions & {
    readonly content?: string | null;
    readonly toolCalls?: OpenAiToolCallWire[];
  } = {},
): OpenAiCompletionWire {
  const defaultContent = options.toolCalls ? null : DEFAULT_REPLY;
  const content = options.content === undefined ? defaultContent : options.content;
  const message: OpenAiCompletionWire['choices'][number]['message'] = {
    role: 'assistant',
    content,
  };
  if (options.toolCalls !== undefined) message.tool_calls = options.toolCalls;
  return {
    id: options.id ?? 'chatcmpl-fake-0001',
    object: 'chat.completion',
    created: CREATED_SECONDS,
    model: options.model ?? DEFAULT_OPENAI_MODEL,
    system_fingerprint: 'fp_fake',
    choices: [
      {
        index: 0,
        message,
        finish_reason: options.finishReason ?? (options.toolCalls ? 'tool_calls' : 'stop'),
        logprobs: null,
      },
    ],
    usage: openAiUsage(
      options.promptTokens ?? DEFAULT_PROMPT_TOKENS,
      options.completionTokens ?? DEFAULT_REPLY_PIECES.length,
    ),
    time_info: timeInfo(),
  };
}

/** One SSE event carrying `data` as JSON. */
export function sseEvent(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/**
 * The events of a streamed completion: a role chunk, one chunk per content piece (or the tool call
 * split into argument pieces), a chunk with `finish_reason`, the usage chunk (`choices: []`) when
 * `includeUsage`, then `[DONE]` unless `done: false` (a stream that never finishes properly).
 */
export function openAiSseEvents(
  pieces: readonly string[] = DEFAULT_REPLY_PIECES,
  options: OpenAiBodyOptions & {
    readonly includeUsage?: boolean;
    readonly toolCall?: OpenAiToolCallOptions;
    readonly done?: boolean;
  } = {},
): string[] {
  const chunk = (
    delta: Record<string, unknown>,
    finishReason: string | null = null,
  ): OpenAiChunkWire => ({
    id: options.id ?? 'chatcmpl-fake-0001',
    object: 'chat.completion.chunk',
    created: CREATED_SECONDS,
    model: options.model ?? DEFAULT_OPENAI_MODEL,
    system_fingerprint: 'fp_fake',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
  const events = [sseEvent(chunk({ role: 'assistant', content: '' }))];
  for (const piece of pieces) events.push(sseEvent(chunk({ content: piece })));
  const tool = options.toolCall;
  if (tool !== undefined) {
    const head = { index: 0, id: tool.id ?? 'call_fake_0001', type: 'function' };
    events.push(
      sseEvent(chunk({ tool_calls: [{ ...head, function: { name: tool.name, arguments: '' } }] })),
    );
    for (const argumentPiece of tool.argumentPieces) {
      events.push(
        sseEvent(chunk({ tool_calls: [{ index: 0, function: { arguments: argumentPiece } }] })),
      );
    }
  }
  const completionTokens = options.completionTokens ?? pieces.length + (tool ? 1 : 0);
  const finishReason = options.finishReason ?? (tool ? 'tool_calls' : 'stop');
  events.push(sseEvent(chunk({}, finishReason)));
  if (options.includeUsage === true) {
    const usage = openAiUsage(options.promptTokens ?? DEFAULT_PROMPT_TOKENS, completionTokens);
    events.push(sseEvent({ ...chunk({}), choices: [], usage, time_info: timeInfo() }));
  }
  if (options.done !== false) events.push(SSE_DONE);
  return events;
}

/** An OpenAI `GET /models` list. */
export function openAiModelList(
  ids: readonly string[] = [DEFAULT_OPENAI_MODEL, 'llama-3.3-70b', 'qwen-3-32b'],
): {
  object: 'list';
  data: Array<{ id: string; object: 'model'; created: number; owned_by: string }>;
} {
  return {
    object: 'list',
    data: ids.map((id) => ({
      id,
      object: 'model',
      created: CREATED_SECONDS,
      owned_by: 'Cerebras',
    })),
  };
}

/** One Ollama tool call; unlike OpenAI, `arguments` is an object. */
export interface OllamaToolCallWire {
  function: { name: string; arguments: Record<string, unknown> };
}
/** An Ollama `/api/chat` object: the whole answer, or one NDJSON line of a stream. */
export interface OllamaChatWire {
  model: string;
  created_at: string;
  message: { role: 'assistant'; content: string; tool_calls?: OllamaToolCallWire[] };
  done: boolean;
  done_reason?: string;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
}
/** Options of the Ollama builders. */
export interface OllamaBodyOptions {
  readonly model?: string;
  readonly toolCalls?: OllamaToolCallWire[];
  readonly doneReason?: string;
  readonly promptEvalCount?: number;
  readonly evalCount?: number;
}

function ollamaFinal(
  options: OllamaBodyOptions,
  message: OllamaChatWire['message'],
  evalCount: number,
): OllamaChatWire {
  return {
    model: options.model ?? DEFAULT_OLLAMA_MODEL,
    created_at: CREATED_AT_ISO,
    message,
    done: true,
    // Ollama reports "stop" even when the answer is a tool call.
    done_reason: options.doneReason ?? 'stop',
    total_duration: 120_000_000,
    load_duration: 10_000_000,
    prompt_eval_count: options.promptEvalCount ?? DEFAULT_PROMPT_TOKENS,
    prompt_eval_duration: 20_000_000,
    eval_count: options.evalCount ?? evalCount,
    eval_duration: 80_000_000,
  };
}

/** A non-streamed Ollama `/api/chat` answer (`"stream": false`). */
export function ollamaChatResponse(
  options: OllamaBodyOptions & { readonly content?: string } = {},
): OllamaChatWire {
  const message: OllamaChatWire['message'] = {
    role: 'assistant',
    content: options.content ?? (options.toolCalls ? '' : DEFAULT_REPLY),
  };
  if (options.toolCalls !== undefined) message.tool_calls = options.toolCalls;
  return ollamaFinal(options, message, DEFAULT_REPLY_PIECES.length);
}

/**
 * The NDJSON lines (each ending in `\n`) of a streamed Ollama answer: one `done:false` line per
 * piece, the tool calls (if any) on their own line as Ollama sends them, then the `done:true` line
 * with the counts. `done: false` leaves the final line out (a truncated stream).
 */
export function ollamaNdjsonLines(
  pieces: readonly string[] = DEFAULT_REPLY_PIECES,
  options: OllamaBodyOptions & { readonly done?: boolean } = {},
): string[] {
  const model = options.model ?? DEFAULT_OLLAMA_MODEL;
  const partial = (message: OllamaChatWire['message']): string =>
    `${JSON.stringify({ model, created_at: CREATED_AT_ISO, message, done: false })}\n`;
  const lines = pieces.map((content) => partial({ role: 'assistant', content }));
  if (options.toolCalls !== undefined) {
    lines.push(partial({ role: 'assistant', content: '', tool_calls: options.toolCalls }));
  }
  if (options.done !== false) {
    const final = ollamaFinal(options, { role: 'assistant', content: '' }, pieces.length);
    lines.push(`${JSON.stringify(final)}\n`);
  }
  return lines;
}

/** Ollama's `GET /api/tags` model list. */
export function ollamaTags(names: readonly string[] = [DEFAULT_OLLAMA_MODEL]): {
  models: Array<Record<string, unknown>>;
} {
  return {
    models: names.map((name) => ({
      name,
      model: name,
      modified_at: '2025-09-30T12:00:00.000000000Z',
      size: 2_019_393_189,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
      details: {
        parent_model: '',
        format: 'gguf',
        family: 'llama',
        families: ['llama'],
        parameter_size: '3.2B',
        quantization_level: 'Q4_K_M',
      },
    })),
  };
}

/** A scripted SSE response (`text/event-stream`), one event per TCP write. */
export function sseResponse(
  events: readonly FakeChunk[],
  extra: Omit<FakeResponse, 'chunks' | 'body'> = {},
): FakeResponse {
  return withContentType({ ...extra, chunks: events }, 'text/event-stream; charset=utf-8');
}

/** A scripted Ollama NDJSON response (`application/x-ndjson`), one line per TCP write. */
export function ndjsonResponse(
  lines: readonly FakeChunk[],
  extra: Omit<FakeResponse, 'chunks' | 'body'> = {},
): FakeResponse {
  return withContentType({ ...extra, chunks: lines }, 'application/x-ndjson');
}

function withContentType(response: FakeResponse, contentType: string): FakeResponse {
  return { ...response, headers: { 'content-type': contentType, ...response.headers } };
}

/** The two wire formats the fake speaks: Cerebras's OpenAI SSE, Ollama's NDJSON. */
export type WireProvider = 'ollama' | 'cerebras';

/** A provider's streamed answer with these chunks (SSE for Cerebras, NDJSON for Ollama). */
export function streamedAs(
  provider: WireProvider,
  chunks: readonly FakeChunk[],
  extra: Omit<FakeResponse, 'chunks' | 'body'> = {},
): FakeResponse {
  return provider === 'cerebras' ? sseResponse(chunks, extra) : ndjsonResponse(chunks, extra);
}

/** The start of a stream: content, no finish reason, no end marker — a stream cut mid-answer. */
export function partialStream(provider: WireProvider): string[] {
  return provider === 'cerebras'
    ? openAiSseEvents(['Hello', ' there']).slice(0, 3)
    : ollamaNdjsonLines(['Hello', ' there'], { done: false });
}
