import { UpstreamError } from '../../errors/gateway-error.js';
import { scrubSecrets } from '../../errors/scrub-secrets.js';
import type {
  ChatCompletionChunk,
  ChatCompletionChunkChoice,
  ChunkDelta,
  FinishReason,
  ToolCallDelta,
  Usage,
} from '../../openai/chat-types.js';
import {
  toFinishReason,
  toOpenAiToolCall,
  toUnixSeconds,
  toUsage,
} from './from-ollama-response.js';
import { isOllamaChatResponse, isOllamaErrorLine, type OllamaChatResponse } from './ollama-wire.js';

/** Call-site options for {@link createOllamaChunkMapper} and {@link ollamaChunks}. */
export interface OllamaChunkOptions {
  /** The completion id shared by every chunk, e.g. `chatcmpl-…`. */
  readonly id: string;
  /** The model name shared by every chunk. */
  readonly model: string;
  /** Unix seconds shared by every chunk; defaults to the first line's `created_at`. */
  readonly created?: number;
  /** A unique suffix for each `call_…` tool-call id. */
  readonly generateId: () => string;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** The provider's own credentials, scrubbed from relayed error lines. */
  readonly secrets?: readonly string[];
}

/** Turns parsed NDJSON lines of one `/api/chat` stream into OpenAI chunks, in order. */
export interface OllamaChunkMapper {
  /** Chunks for one line (possibly none). Throws {@link UpstreamError} on an error or bad line. */
  map(line: unknown): ChatCompletionChunk[];
  /** Call when the upstream stream ended; throws {@link UpstreamError} if it was truncated. */
  finish(): void;
}

/**
 * Creates the stateful mapper. The first line yields a `role: 'assistant'` chunk; `content`,
 * `thinking` and tool calls become deltas; the `done: true` line yields a chunk with an empty delta
 * and the `finish_reason`, then, when Ollama reported counts, exactly one usage chunk
 * (`choices: []`). An `{"error": …}` line, an unknown line, data after the end or a missing end
 * throw {@link UpstreamError}, so a broken stream never looks finished.
 */
export function createOllamaChunkMapper(options: OllamaChunkOptions): OllamaChunkMapper {
  // Ollama stamps every line; the first line's `created_at` dates the whole completion.
  let created = options.created;
  let started = false;
  let done = false;
  // OpenAI's tool-call index counts across the whole stream. Ollama sends each call complete
  // (arguments already parsed) and once, so every call it sends is a new index.
  let toolCallCount = 0;

  const chunk = (
    choices: readonly ChatCompletionChunkChoice[],
    usage?: Usage,
  ): ChatCompletionChunk => ({
    id: options.id,
    object: 'chat.completion.chunk',
    created: created ?? Math.floor(options.now() / 1000),
    model: options.model,
    choices,
    ...(usage === undefined ? {} : { usage }),
  });
  const deltaChunk = (delta: ChunkDelta, finishReason: FinishReason | null) =>
    chunk([{ index: 0, delta, finish_reason: finishReason }]);

  const toDelta = (line: OllamaChatResponse): ChunkDelta | undefined => {
    const { content, thinking, tool_calls: toolCalls = [] } = line.message;
    const toolCallDeltas = toolCalls.map((call): ToolCallDelta => {
      const { id, type, function: fn } = toOpenAiToolCall(call, options.generateId);
      const index = toolCallCount;
      toolCallCount += 1;
      return { index, id, type, function: fn };
    });
    // Built field by field rather than with conditional spreads: this runs for every line.
    const delta: { -readonly [Key in keyof ChunkDelta]: ChunkDelta[Key] } = {};
    let empty = true;
    if (thinking !== undefined && thinking !== '') {
      delta.reasoning_content = thinking;
      empty = false;
    }
    if (content !== '') {
      delta.content = content;
      empty = false;
    }
    if (toolCallDeltas.length > 0) {
      delta.tool_calls = toolCallDeltas;
      empty = false;
    }
    return empty ? undefined : delta;
  };

  return {
    map(line) {
      if (isOllamaErrorLine(line)) {
        throw new UpstreamError(
          `The ollama upstream failed: ${scrubSecrets(line.error, options.secrets)}`,
        );
      }
      if (!isOllamaChatResponse(line)) {
        throw new UpstreamError('The ollama upstream sent a stream line of an unknown shape.');
      }
      if (done) {
        throw new UpstreamError('The ollama upstream sent data after the end of its stream.');
      }
      const chunks: ChatCompletionChunk[] = [];
      if (!started) {
        started = true;
        created ??= toUnixSeconds(line.created_at, options.now);
        chunks.push(deltaChunk({ role: 'assistant', content: '' }, null));
      }
      const delta = toDelta(line);
      if (delta !== undefined) chunks.push(deltaChunk(delta, null));
      if (line.done) {
        done = true;
        chunks.push(deltaChunk({}, toFinishReason(line.done_reason, toolCallCount > 0)));
        // The provider contract: one usage chunk whenever the upstream reported counts.
        if (line.prompt_eval_count !== undefined || line.eval_count !== undefined) {
          chunks.push(chunk([], toUsage(line)));
        }
      }
      return chunks;
    },
    finish() {
      if (!done) {
        throw new UpstreamError('The ollama upstream stream ended before its final message.');
      }
    },
  };
}

/**
 * Maps a stream of parsed NDJSON lines, in batches (see `parseNdjson`), to OpenAI chunks, yielded
 * as one batch per batch of lines: the consumer takes one step per upstream read rather than one
 * per chunk through two generators (half the cost, docs/performance.md). A failing
 * line ends the stream after the chunks of the lines before it. It reads the source to its end
 * even after the final line, so the upstream connection is drained and can be reused. Errors of
 * `lines` pass through unchanged.
 */
export async function* ollamaChunks(
  lines: AsyncIterable<readonly unknown[]>,
  options: OllamaChunkOptions,
): AsyncGenerator<readonly ChatCompletionChunk[], void, undefined> {
  const mapper = createOllamaChunkMapper(options);
  for await (const batch of lines) {
    const chunks: ChatCompletionChunk[] = [];
    try {
      for (const line of batch) {
        for (const chunk of mapper.map(line)) chunks.push(chunk);
      }
    } catch (error) {
      if (chunks.length > 0) yield chunks;
      throw error;
    }
    if (chunks.length > 0) yield chunks;
  }
  mapper.finish();
}
