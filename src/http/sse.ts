import { once } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { asGatewayError, type GatewayError } from '../errors/gateway-error.js';
import type { ChatCompletionChunk, Usage } from '../openai/chat-types.js';
import type { ChatStream, StreamChunk } from '../providers/provider.js';

/**
 * How one inbound API writes a chunk stream as SSE: Chat Completions' `data: {json}` events and
 * `[DONE]` (`openai-sse-frames.ts`), or `event: <type>` frames of another API. An API whose frames
 * depend on what came before (block indices, sequence numbers) makes one encoder per stream;
 * one without such state shares a constant.
 */
export interface SseFrameEncoder {
  /** The frames for one chunk, or '' for none. */
  chunk(item: StreamChunk): string;
  /** What closes a stream that completed. */
  end(): string;
  /** The frame for a failure after the stream began; nothing follows it. */
  error(error: GatewayError): string;
}

/** The final `choices: []` chunk that carries a stream's usage (see `ChatStream`). */
export function isUsageChunk(
  chunk: ChatCompletionChunk,
): chunk is ChatCompletionChunk & { usage: Usage } {
  return chunk.usage != null && chunk.choices.length === 0;
}

export interface SseOptions {
  readonly frames: SseFrameEncoder;
  /** A client that takes no bytes for this long is dropped (its socket stays full). */
  readonly writeTimeoutMs: number;
}

/**
 * Writes a chunk stream as SSE (security headers, request id and CORS headers already set on the
 * reply included) through `options.frames`: the frames of each chunk, then the end frame at a
 * normal end. A failure after the headers becomes the error frame and the stream ends without the
 * end frame. The usage of the final usage chunk is noted for the access log and metrics whether or
 * not its frame is sent. When the client goes away the upstream iterator is closed, which aborts
 * the upstream.
 *
 * Events that arrive together leave in one write, not one write each: pending text is flushed in
 * the event loop's check phase (`setImmediate`), after the I/O callbacks of the same loop turn, so
 * an upstream read that also carries the end of the stream goes out with `[DONE]` and the
 * response's end in one write (a burst: two writes to the client became one, ~15% less CPU per
 * stream measured), and a chunk that arrives alone still leaves in the same turn. A write the
 * socket cannot take pauses reading the upstream until it drains.
 */
export async function sendSse(
  request: FastifyRequest,
  reply: FastifyReply,
  stream: PrimedStream,
  options: SseOptions,
): Promise<void> {
  const response = reply.raw;
  try {
    response.writeHead(200, {
      ...(reply.getHeaders() as OutgoingHttpHeaders),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
  } catch (error) {
    // Nothing was sent: release the upstream and let the error handler answer.
    await stream.rest.return?.();
    throw error;
  }
  reply.hijack();
  const context = request.gateway;
  const { frames } = options;
  let pending = '';
  let flushScheduled = false;
  let blocked: Promise<void> | undefined;
  // Whoever sends the pending text takes it: the end can overtake a scheduled flush, which must
  // then find nothing left to write.
  const takePending = () => {
    const text = pending;
    pending = '';
    return text;
  };
  const flush = () => {
    flushScheduled = false;
    if (pending === '' || response.destroyed) return;
    if (!response.write(takePending())) {
      blocked = drained(response, options.writeTimeoutMs).then(() => {
        blocked = undefined;
      });
    }
  };
  try {
    for (let next = stream.first; next.done !== true; next = await stream.rest.next()) {
      if (response.destroyed) return;
      for (const item of next.value) {
        const { chunk } = item;
        if (isUsageChunk(chunk)) context.usage = chunk.usage;
        pending += frames.chunk(item);
      }
      if (!flushScheduled && pending !== '') {
        flushScheduled = true;
        setImmediate(flush);
      }
      if (blocked !== undefined) await blocked;
    }
    if (!response.destroyed) response.end(takePending() + frames.end());
  } catch (thrown) {
    const error = asGatewayError(thrown);
    context.errorCode = error.code;
    if (response.destroyed) return;
    if (error.status >= 500) {
      request.log.error({ err: error.cause ?? error, code: error.code }, error.message);
    } else {
      request.log.warn({ code: error.code }, error.message);
    }
    response.end(takePending() + frames.error(error));
  } finally {
    // A no-op after a normal end or a failure; when the client left, it releases the upstream.
    await stream.rest.return?.();
  }
}

/**
 * Waits for the socket to take more, or for the client to leave (then writes are moot). A client
 * that reads nothing for `timeoutMs` is dropped: its response is destroyed, which closes the
 * upstream too, so a reader that never reads holds neither memory nor an upstream slot for long.
 */
async function drained(response: ServerResponse, timeoutMs: number): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => response.destroy(), timeoutMs);
  await Promise.race([
    once(response, 'drain', { signal: controller.signal }),
    once(response, 'close', { signal: controller.signal }),
  ]).catch(() => undefined);
  clearTimeout(timer);
  controller.abort();
}

/** A stream whose first batch of chunks has already arrived (see {@link primeStream}). */
export interface PrimedStream {
  readonly first: IteratorResult<readonly StreamChunk[]>;
  readonly rest: AsyncIterator<readonly StreamChunk[]>;
}

/**
 * Waits for the stream's first chunk before any byte goes to the client, so a failure that early
 * (an Ollama model that fails to load after a 200, an immediate error event) is still answered
 * with a proper status and envelope rather than an in-stream error.
 */
export async function primeStream(stream: ChatStream): Promise<PrimedStream> {
  const rest = stream[Symbol.asyncIterator]();
  return { first: await rest.next(), rest };
}
