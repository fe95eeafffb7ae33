import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestTimeoutError } from '../../errors/gateway-error.js';

/** The idle timer of a request whose body is watched (cleared, not removed, when done). */
const BODY_TIMER = Symbol('bodyTimer');

interface WatchedRequest extends IncomingMessage {
  [BODY_TIMER]?: NodeJS.Timeout;
}

/** Methods Fastify never reads a body for: nothing to wait on. */
const BODYLESS_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'TRACE']);

/**
 * preParsing hook: a request body that stops arriving (no byte for `timeoutMs`) is cut, however
 * long the request has been going: the timer is reset by every chunk, so a slow upload that keeps
 * moving is never cut, while one that announced 5000 bytes and sent 60 frees its slot and socket
 * after `timeoutMs` instead of after the whole-request timeout.
 *
 * On expiry, while Fastify's body reader is still waiting, the request stream emits a 408
 * {@link RequestTimeoutError}: the reader stops (it drops its listeners) and Fastify sends the
 * error through our error handler with `connection: close`, so the socket closes once the answer
 * is written. When no answer can be written any more the request is destroyed, which destroys its
 * socket. The timer and the listeners go with the body's `end` or the request's `close` (a client
 * that leaves), whichever comes first. Per request: one timer and three listeners, no closure.
 */
export function bodyTimeout(timeoutMs: number) {
  return function bodyTimeoutHook(
    request: FastifyRequest,
    reply: FastifyReply,
    _payload: unknown,
    done: () => void,
  ): void {
    const raw: WatchedRequest = request.raw;
    if (awaitsBody(raw)) {
      // Paused first so that our listener alone does not start the flow: Fastify's reader
      // resumes the stream once its own listeners are on, and loses no chunk in between.
      raw.pause();
      watch(request, reply, timeoutMs);
    }
    done();
  };
}

/**
 * For an error answer (a refused key, an unsupported Content-Type): nobody will read the rest of
 * the body now, yet Node drains it to reuse the connection, and would wait on a stalled one until
 * the request timeout. It is drained here instead, its bytes dropped, under the same idle limit
 * (the preParsing hook's watch when it already runs).
 */
export function discardUnreadBody(
  request: FastifyRequest,
  reply: FastifyReply,
  timeoutMs: number,
): void {
  const raw: WatchedRequest = request.raw;
  if (!awaitsBody(raw)) return;
  if (raw[BODY_TIMER] === undefined) watch(request, reply, timeoutMs);
  raw.resume();
}

/** More body bytes are due: the request announced a body (Fastify's own test) and it is not in. */
function awaitsBody(raw: IncomingMessage): boolean {
  if (raw.complete || BODYLESS_METHODS.has(raw.method ?? '')) return false;
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function watch(request: FastifyRequest, reply: FastifyReply, timeoutMs: number): void {
  const raw: WatchedRequest = request.raw;
  raw[BODY_TIMER] = setTimeout(onBodyIdle, timeoutMs, request, reply);
  raw.on('data', onBodyData);
  raw.on('end', stopWatching);
  raw.on('close', stopWatching);
}

function onBodyData(this: WatchedRequest): void {
  this[BODY_TIMER]?.refresh();
}

function stopWatching(this: WatchedRequest): void {
  clearTimeout(this[BODY_TIMER]);
  this.off('data', onBodyData);
  this.off('end', stopWatching);
  this.off('close', stopWatching);
}

function onBodyIdle(request: FastifyRequest, reply: FastifyReply): void {
  const raw: WatchedRequest = request.raw;
  stopWatching.call(raw);
  // Fastify's body reader listens for 'error' on the request until the body is complete; with it
  // gone (an answer sent before the body was read) or the socket unwritable, nobody can be told.
  const { socket } = raw;
  if (
    reply.sent ||
    raw.listenerCount('error') === 0 ||
    socket.destroyed ||
    socket.writable === false
  ) {
    raw.destroy();
    return;
  }
  raw.emit('error', new RequestTimeoutError());
}
