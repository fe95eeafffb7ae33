import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/**
 * Recognises the one failure of a pooled keep-alive connection that is safe to repeat: the
 * upstream closed the connection as idle just as we reused it, so it never read our request.
 * undici reports that like any other reset, so the evidence is gathered from its diagnostics
 * channels: which socket carried the request, whether that socket had carried one before, and how
 * many bytes it had read when our request went out.
 */
export interface StaleConnections {
  /** Whether `error` (from an undici request) is such a stale-connection failure. */
  isStale(error: unknown): boolean;
  /** Stops listening to undici's channels. */
  close(): void;
}

/**
 * An idle close races our request within one round trip. A connection lost later, even with no
 * response byte yet, may have reached a model that is generating: never repeated.
 */
export const STALE_WINDOW_MS = 1_000;

/** The ways undici reports a connection the upstream closed under a request. */
const CONNECTION_LOST_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
]);

interface SentOnReusedSocket {
  readonly socket: Socket;
  readonly bytesReadBefore: number;
  readonly sentAt: number;
}

interface SendHeadersMessage {
  readonly request: object;
  readonly socket: Socket;
}

interface RequestErrorMessage {
  readonly request: object;
  readonly error: unknown;
}

/** Subscribes to undici's channels until `close()`; `now` is injectable for tests. */
export function watchStaleConnections(
  now: () => number = () => performance.now(),
): StaleConnections {
  // Weak maps: entries go with undici's sockets, requests and errors, nothing to clean up.
  const requestsSent = new WeakMap<Socket, number>();
  const onReusedSockets = new WeakMap<object, SentOnReusedSocket>();
  const stale = new WeakSet<object>();

  const onSendHeaders = (message: unknown): void => {
    // A throwing subscriber would be an uncaught exception in undici's call: check the shape.
    const { request, socket } = message as Partial<SendHeadersMessage>;
    if (typeof request !== 'object' || request === null || typeof socket?.bytesRead !== 'number')
      return;
    const count = (requestsSent.get(socket) ?? 0) + 1;
    requestsSent.set(socket, count);
    if (count > 1) {
      onReusedSockets.set(request, { socket, bytesReadBefore: socket.bytesRead, sentAt: now() });
    }
  };
  const onRequestError = (message: unknown): void => {
    const { request, error } = message as Partial<RequestErrorMessage>;
    if (typeof request !== 'object' || request === null) return;
    const sent = onReusedSockets.get(request);
    if (sent === undefined || typeof error !== 'object' || error === null) return;
    const code = (error as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      CONNECTION_LOST_CODES.has(code) &&
      sent.socket.bytesRead === sent.bytesReadBefore &&
      now() - sent.sentAt <= STALE_WINDOW_MS
    ) {
      stale.add(error);
    }
  };

  subscribe('undici:client:sendHeaders', onSendHeaders);
  subscribe('undici:request:error', onRequestError);
  return {
    isStale: (error) => typeof error === 'object' && error !== null && stale.has(error),
    close() {
      unsubscribe('undici:client:sendHeaders', onSendHeaders);
      unsubscribe('undici:request:error', onRequestError);
    },
  };
}
