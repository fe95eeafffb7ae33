import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../errors/error-codes.js';
import {
  asGatewayError,
  GatewayError,
  HeadersTooLargeError,
  InvalidJsonError,
  InvalidRequestError,
  NotFoundError,
  RequestTimeoutError,
  RequestTooLargeError,
  ValidationError,
} from '../errors/gateway-error.js';
import { discardUnreadBody } from './hooks/body-timeout.js';
import { openAiErrorBody } from './openai-error-body.js';

/** How an inbound API writes an error as its response body (any JSON value). */
export type ErrorBodyEncoder = (error: GatewayError) => object;

declare module 'fastify' {
  interface FastifyReply {
    /**
     * The error encoder of the API plugin whose route this is (see {@link useErrorBody});
     * undefined outside such a plugin, where the OpenAI envelope is written.
     */
    readonly errorBody?: ErrorBodyEncoder;
  }
}

/**
 * Makes every route of an API plugin (`scope`, an encapsulated plugin instance) answer errors
 * with `encoder`: its own routes, hook failures on them, its unknown-provider 404s and its
 * schema errors alike. Called once when the plugin registers: the encoder then sits on the
 * plugin's reply prototype (a Fastify decorator), so {@link sendError} finds it with one
 * property read, with no per-request work and no route-options object built per error.
 */
export function useErrorBody(scope: FastifyInstance, encoder: ErrorBodyEncoder): void {
  scope.decorateReply('errorBody', encoder);
}

interface AjvError {
  readonly instancePath?: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

/** `/messages/0/role` → `messages[0].role`. */
function toParamPath(instancePath: string, child?: string): string {
  const segments = instancePath.split('/').filter((segment) => segment !== '');
  if (child !== undefined) segments.push(child);
  let path = '';
  for (const segment of segments) {
    path += /^\d+$/.test(segment) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
  }
  return path;
}

/** A schema violation as the 422 naming the first offending field (`param`). */
export function fromValidation(validation: readonly AjvError[]): ValidationError {
  const first = validation[0] ?? {};
  const params = first.params ?? {};
  const child =
    typeof params.missingProperty === 'string'
      ? params.missingProperty
      : typeof params.additionalProperty === 'string'
        ? params.additionalProperty
        : undefined;
  const param = toParamPath(first.instancePath ?? '', child);
  let detail = first.message ?? 'is invalid';
  if (Array.isArray(params.allowedValues)) detail += `: ${params.allowedValues.join(', ')}`;
  if (first.keyword === 'required') detail = 'is required';
  return new ValidationError(`Invalid request: '${param || 'body'}' ${detail}.`, param || null);
}

/** Maps what Fastify itself throws (parsing, limits, schema) to our hierarchy. */
function fromFastifyError(error: FastifyError, bodyLimit: number): GatewayError {
  if (error instanceof GatewayError) return error;
  if (Array.isArray(error.validation)) return fromValidation(error.validation as AjvError[]);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RequestTooLargeError(bodyLimit);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidJsonError('The request body is empty; a JSON object is required.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InvalidJsonError();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new InvalidRequestError(
        'Unsupported Content-Type; send application/json.',
        ERROR_CODES.UNSUPPORTED_MEDIA_TYPE.code,
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new InvalidRequestError('The Content-Length does not match the body.');
  }
  // Any other client error Fastify detects stays a 4xx; everything else is our bug.
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return new InvalidRequestError('The request is malformed.');
  }
  return asGatewayError(error);
}

/**
 * The one function that writes an error response: the body of the route's API (the OpenAI
 * envelope by default; see {@link useErrorBody}), x-request-id (already set by the request hook),
 * retry-after for any error that carries a wait (an upstream's 429 or 503, a busy deployment) and
 * WWW-Authenticate for 401.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: GatewayError): void {
  request.gateway.errorCode = error.code;
  if (error.tried !== undefined && error.tried !== '') request.gateway.tried = error.tried;
  if (error.status >= 500) {
    request.log.error({ err: error.cause ?? error, code: error.code }, error.message);
  }
  if (error.status === 401) reply.header('www-authenticate', 'Bearer');
  if (error.retryAfter !== undefined) reply.header('retry-after', error.retryAfter);
  // The OpenAI SDKs read it and stop retrying.
  if (error.final) reply.header('x-should-retry', 'false');
  const encode = reply.errorBody ?? openAiErrorBody;
  reply.code(error.status).type('application/json; charset=utf-8').send(encode(error));
}

/**
 * Fastify's error handler. The connection is kept after an error answered before the body was
 * read (a refused key), so what is left of that body is drained under `bodyTimeoutMs`.
 */
export function errorHandler(bodyLimit: number, bodyTimeoutMs: number) {
  return function gatewayErrorHandler(
    error: FastifyError,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    discardUnreadBody(request, reply, bodyTimeoutMs);
    sendError(request, reply, fromFastifyError(error, bodyLimit));
  };
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): void {
  sendError(
    request,
    reply,
    new NotFoundError('Unknown route.', ERROR_CODES.ROUTE_NOT_FOUND.code, null),
  );
}

/**
 * Node's `clientError` (malformed HTTP, oversized headers, request timeout): no request object
 * exists, so the envelope is written straight to the socket, then the connection is closed.
 */
export function clientErrorHandler(extraHeaders: Readonly<Record<string, string>>) {
  return function gatewayClientErrorHandler(
    error: Error & { code?: string },
    socket: Duplex,
  ): void {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const gatewayError =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new RequestTimeoutError()
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? new HeadersTooLargeError()
          : new InvalidRequestError(
              'The HTTP request is malformed.',
              ERROR_CODES.MALFORMED_REQUEST.code,
            );
    const body = JSON.stringify(openAiErrorBody(gatewayError));
    const headers = Object.entries({
      ...extraHeaders,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${gatewayError.status} ${STATUS_CODES[gatewayError.status]}\r\n${headers}\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
