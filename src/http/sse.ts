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
  /**
   * The frames that open a stream before its first chunk (Anthropic's `message_start`), written
   * when it opens early under a heartbeat (see {@link awaitUnderHeartbeat}); an encoder that has
   * them then leaves them out of its first chunk's frames.
   */
  start?(): string;
}

/** The final `choices: []` chunk that carries a stream's usage (see `ChatStream`). */
export function isUsageChunk(
  chunk: ChatCompletionChunk,
): chunk is ChatCompletionChunk & { usage: Usage } {
  return chunk.usage != null && chunk.choices.length === 0;
}

/** Keep-alive frames while the upstream is silent, for APIs that have one (Anthropic's `ping`). */
export interface SseHeartbeat {
  /** The silence after which a frame is written, and between two frames. */
  readonly intervalMs: number;
  /** The frame, e.g. `event: ping` with its data. */
  readonly frame: string;
}

export interface SseOptions {
  readonly frames: SseFrameEncoder;
  /** A client that takes no bytes for this long is dropped (its socket stays full). */
  readonly writeTimeoutMs: number;
  /** Unset (Chat Completions): no timer at all. */
  readonly heartbeat?: SseHeartbeat | undefined;
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
 *
 * With a heartbeat, its frame is written whenever nothing else was for one interval: one timer,
 * refreshed by every write. A stream already opened by {@link awaitUnderHeartbeat} goes on.
 */
export async function sendSse(
  request: FastifyRequest,
  reply: FastifyReply,
  stream: PrimedStream,
  options: SseOptions,
): Promise<void> {
  const response = reply.raw;
  if (!response.headersSent) {
    try {
      openSse(reply);
    } catch (error) {
      // Nothing was sent: release the upstream and let the error handler answer.
      await stream.rest.return?.();
      throw error;
    }
  }
  const context = request.gateway;
  const { frames } = options;
  const heartbeat =
    options.heartbeat === undefined ? undefined : startHeartbeat(response, options.heartbeat);
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
    heartbeat?.refresh();
  };
  try {
    for (let next = stream.first; next.done !== true; next = await stream.rest.next()) {
      if (response.destroyed) return;
      for (const item of next.value) {
        const { chunk } = item;
        if (isUsageChunk(chunk)) context.usage = chunk.usage;
        pending += frames.chunk(item);
      }
      // What a stream cut short is billed for: about one token a chunk (see the ledger).
      context.streamedChunks = (context.streamedChunks ?? 0) + next.value.length;
      if (!flushScheduled && pending !== '') {
        flushScheduled = true;
        setImmediate(flush);
      }
      if (blocked !== undefined) await blocked;
    }
    if (!response.destroyed) response.end(takePending() + frames.end());
  } catch (thrown) {
    endWithError(request, response, frames, thrown, takePending());
  } finally {
    clearTimeout(heartbeat);
    // A no-op after a normal end or a failure; when the client left, it releases the upstream.
    await stream.rest.return?.();
  }
}

/** Writes the SSE status and headers (those already set on the reply included); Fastify lets go. */
function openSse(reply: FastifyReply): void {
  reply.raw.writeHead(200, {
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  reply.hijack();
}

/** Ends a begun stream with the error frame after `before` (what was pending); logs the error. */
function endWithError(
  request: FastifyRequest,
  response: ServerResponse,
  frames: SseFrameEncoder,
  thrown: unknown,
  before = '',
): void {
  const error = asGatewayError(thrown);
  request.gateway.errorCode = error.code;
  if (response.destroyed) return;
  if (error.status >= 500) {
    request.log.error({ err: error.cause ?? error, code: error.code }, error.message);
  } else {
    request.log.warn({ code: error.code }, error.message);
  }
  response.end(before + frames.error(error));
}

/**
 * One timer that writes the heartbeat frame after a silence of one interval; the caller refreshes
 * it on every write and clears it at the end. Unref'd: it never keeps the process alive. A client
 * whose socket is full gets no frame (it is not reading anyway).
 */
function startHeartbeat(response: ServerResponse, heartbeat: SseHeartbeat): NodeJS.Timeout {
  const timer = setTimeout(() => {
    if (response.writableEnded || response.destroyed) return;
    if (!response.writableNeedDrain) response.write(heartbeat.frame);
    timer.refresh();
  }, heartbeat.intervalMs);
  timer.unref();
  return timer;
}

/** What {@link awaitUnderHeartbeat} needs besides the reply. */
export interface HeartbeatWaitOptions<Value> {
  readonly frames: SseFrameEncoder;
  readonly heartbeat: SseHeartbeat;
  /** Frees a value that arrives after the stream could not be opened (its upstream). */
  readonly release: (value: Value) => unknown;
}

const SILENT = Symbol('silent');

/**
 * Waits for `ready` (routing, retries, the upstream's first chunk) under a heartbeat. A slow
 * local prefill can keep the first chunk for minutes, while clients and proxies drop a connection
 * that stays silent: when `ready` takes longer than one interval, the stream opens at once
 * (status, headers, the encoder's `start` frames and a heartbeat frame), and a heartbeat frame
 * follows every interval until `ready` settles. Retries and fallbacks go on meanwhile (no byte of
 * an upstream's answer was sent); the price is that a failure after the stream opened is an error
 * frame, not a status. A `ready` that comes within the interval costs one timer.
 *
 * Resolves with `ready`'s value, the stream open or not ({@link sendSse} goes on either way);
 * rejects with `ready`'s error while nothing was sent; once the stream opened, a failure is
 * written as the error frame, the response ends, and it resolves with undefined.
 */
export async function awaitUnderHeartbeat<Value>(
  request: FastifyRequest,
  reply: FastifyReply,
  ready: Promise<Value>,
  options: HeartbeatWaitOptions<Value>,
): Promise<Value | undefined> {
  const { frames, heartbeat } = options;
  let timer: NodeJS.Timeout | undefined;
  const silence = new Promise<typeof SILENT>((resolve) => {
    timer = setTimeout(resolve, heartbeat.intervalMs, SILENT);
  });
  let first: Value | typeof SILENT;
  try {
    first = await Promise.race([ready, silence]);
  } finally {
    clearTimeout(timer);
  }
  const response = reply.raw;
  // A client that left already aborted the upstream: `ready` fails, and nothing is written.
  if (first !== SILENT || response.destroyed) return ready;
  try {
    openSse(reply);
  } catch (error) {
    ready.then(options.release, () => undefined);
    throw error;
  }
  response.write((frames.start?.() ?? '') + heartbeat.frame);
  const beat = setInterval(() => {
    if (!response.destroyed && !response.writableNeedDrain) response.write(heartbeat.frame);
  }, heartbeat.intervalMs);
  beat.unref();
  try {
    return await ready;
  } catch (thrown) {
    endWithError(request, response, frames, thrown);
    return undefined;
  } finally {
    clearInterval(beat);
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
