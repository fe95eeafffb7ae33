import type { FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES, type ErrorCode } from '../../errors/error-codes.js';
import { ClientClosedError } from '../../errors/gateway-error.js';
import type { AccessLog } from '../../logging/access-log.js';
import type { GatewayMetrics } from '../../metrics/gateway-metrics.js';
import type { Usage } from '../../openai/chat-types.js';
import type { CallAbort } from '../../providers/call-signal.js';

/** The route of a request no route matched (404s, malformed URLs), in logs and metrics. */
const UNMATCHED = 'unmatched';

/** Who is calling. Later: per-key limits and budgets hang off this. */
export interface Principal {
  /** A non-secret fingerprint of the key (or 'anonymous' in development mode). */
  readonly keyId: string;
}

/**
 * Per-request state shared by hooks, routes and the access log. Later capabilities (limits,
 * usage accounting, routing) read and fill it.
 */
export interface RequestContext {
  readonly startTime: number;
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
  /** The client asked for a stream. */
  streamed?: boolean;
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
 * and on the response's `close` writes the one access-log line. A close before the response
 * finished is a client disconnect: the upstream call is aborted at once and the line says 499.
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
  readonly accessLog: AccessLog;
  readonly metrics?: GatewayMetrics | undefined;
}

/** The hook's work, also called for requests Fastify rejects before hooks run (bad URLs). */
export function beginRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  { accessLog, metrics }: RequestContextOptions,
): void {
  request.gateway = { startTime: performance.now(), route: request.routeOptions.url ?? UNMATCHED };
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
    const status = finished ? reply.raw.statusCode : 499;
    logAccess(accessLog, request, status);
    if (metrics !== undefined) recordMetrics(metrics, request, status);
  });
}

function recordMetrics(metrics: GatewayMetrics, request: FastifyRequest, status: number): void {
  const { gateway } = request;
  metrics.requestFinished({
    route: gateway.route,
    provider: gateway.provider,
    model: gateway.model,
    status,
    durationSeconds: (performance.now() - gateway.startTime) / 1000,
    errorCode: gateway.errorCode,
    streamed: gateway.streamed === true,
    promptTokens: gateway.usage?.prompt_tokens,
    completionTokens: gateway.usage?.completion_tokens,
  });
}

function logAccess(accessLog: AccessLog, request: FastifyRequest, status: number): void {
  const { gateway } = request;
  accessLog({
    requestId: request.id,
    method: request.method,
    route: gateway.route,
    status,
    durationMs: Math.round((performance.now() - gateway.startTime) * 100) / 100,
    keyId: gateway.principal?.keyId,
    provider: gateway.provider,
    model: gateway.model,
    deployment: gateway.deployment,
    attempts: gateway.attempts,
    promptTokens: gateway.usage?.prompt_tokens,
    completionTokens: gateway.usage?.completion_tokens,
    errorCode: gateway.errorCode,
  });
}
