import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../../errors/error-codes.js';
import { ClientClosedError } from '../../errors/gateway-error.js';
import type { FinishedRequest, RequestObserver } from '../../events/finished-request.js';
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import type { Usage } from '../../openai/chat-types.js';
import type { CallAbort } from '../../providers/call-signal.js';
import type { AdmissionTicket } from '../../tenancy/admission.js';
import type { Principal } from '../../tenancy/principal.js';

/** The route of a request no route matched (404s, malformed URLs), in logs and metrics. */
const UNMATCHED = 'unmatched';

/**
 * Per-request state shared by hooks, routes and the access log. Later capabilities (limits,
 * usage accounting, routing) read and fill it.
 */
export interface RequestContext {
  /** `performance.now()` at arrival, for durations. */
  readonly startTime: number;
  /** Epoch milliseconds at arrival, for the record of the request. */
  readonly startedAt: number;
  /** The matched route's pattern, or 'unmatched'; read once (Fastify builds it on every read). */
  readonly route: string;
  principal?: Principal;
  provider?: string;
  model?: string;
  usage?: Usage;
  errorCode?: ErrorCode;
  /** `provider/model` that served the request, and how many attempts that took. */
  deployment?: string;
  attempts?: number;
  /** Deployments that failed before the one that served, or all of them when none did. */
  tried?: string;
  /** The client asked for a stream. */
  streamed?: boolean;
  /** Milliseconds from arrival to a stream's first chunk. */
  ttftMs?: number;
  /** Chunks a stream relayed (what a stream cut short before its usage is billed by). */
  streamedChunks?: number;
  /** An inference route took the request (it goes in the usage ledger). */
  billable?: boolean;
  /** A virtual key's admission, settled when the request ends. */
  ticket?: AdmissionTicket;
  /** Set only by routes that call an upstream; aborted when the client goes away. */
  abort?: CallAbort;
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway: RequestContext;
  }
}

/**
 * onRequest hook, first in line: creates the request's context, returns its id on the response,
 * and on the response's `close` tells each observer (access log, metrics, ledger) how the request
 * ended, once. A close before the response finished is a client disconnect: the upstream call is
 * aborted at once and the request ends with 499.
 */
export function requestContext(options: RequestContextOptions) {
  return function requestContextHook(
    request: FastifyRequest,
    reply: FastifyReply,
    done: () => void,
  ): void {
    beginRequest(request, reply, options);
    done();
  };
}

export interface RequestContextOptions {
  /** Told of every request's end, in order. */
  readonly observers: readonly RequestObserver[];
  /** Told of every request's arrival (the in-flight gauge). */
  readonly metrics?: GatewayMetrics | undefined;
}

/** The hook's work, also called for requests Fastify rejects before hooks run (bad URLs). */
export function beginRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  { observers, metrics }: RequestContextOptions,
): void {
  request.gateway = {
    startTime: performance.now(),
    startedAt: Date.now(),
    route: request.routeOptions.url ?? UNMATCHED,
  };
  reply.header('x-request-id', request.id);
  metrics?.requestStarted();
  reply.raw.once('close', () => {
    // writableEnded, not writableFinished: once we ended the response the upstream work is done,
    // even if the last bytes never reached a client that left.
    const finished = reply.raw.writableEnded;
    if (!finished) {
      request.gateway.abort?.abort(new ClientClosedError());
      request.gateway.errorCode ??= ERROR_CODES.CLIENT_CLOSED_REQUEST.code;
    }
    const event = finishedRequest(request, finished ? reply.raw.statusCode : 499);
    for (const observer of observers) observer(event);
  });
}

function finishedRequest(request: FastifyRequest, status: number): FinishedRequest {
  const { gateway } = request;
  return {
    requestId: request.id,
    method: request.method,
    route: gateway.route,
    status,
    startedAt: gateway.startedAt,
    durationMs: performance.now() - gateway.startTime,
    ttftMs: gateway.ttftMs,
    principal: gateway.principal,
    provider: gateway.provider,
    model: gateway.model,
    deployment: gateway.deployment,
    attempts: gateway.attempts,
    tried: gateway.tried,
    usage: gateway.usage,
    errorCode: gateway.errorCode,
    streamed: gateway.streamed === true,
    billable: gateway.billable === true,
    streamedChunks: gateway.streamedChunks ?? 0,
    ticket: gateway.ticket,
  };
}
