/**
 * The one error hierarchy. Every failure the gateway reports is a GatewayError; only the HTTP error
 * handler and the SSE writer put one on the wire, always through {@link toErrorBody}.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error';

/**
 * How far a failed upstream attempt got, which (with {@link GatewayError.upstreamStatus}) decides
 * whether another attempt is safe; the rules live in `routing/retry-policy.ts`:
 * - `not_sent`: refused connection, DNS, connect timeout; the upstream never saw the request.
 * - `refused`: it answered without doing the work (429, 503, rejected our credentials).
 * - `failed`: it may have worked on it (another 5xx, reset or no headers before the first-byte
 *   timeout); {@link GatewayError.upstreamStatus} tells a proxy's 502/504 from the model's 500.
 * - `broken`: its response began and then failed (mid-stream error, bad body, idle timeout).
 */
export type UpstreamFailure = 'not_sent' | 'refused' | 'failed' | 'broken';

export interface GatewayErrorOptions {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param?: string | null;
  readonly cause?: unknown;
  /**
   * How long the client (and the retry executor) should wait, in milliseconds; relayed as
   * `retry-after` in whole seconds, rounded up.
   */
  readonly retryAfterMs?: number;
  /** Set on upstream failures only. */
  readonly upstreamFailure?: UpstreamFailure;
  /** The status the upstream answered with, when the failure is an answer of the upstream. */
  readonly upstreamStatus?: number;
}

/**
 * The longest wait relayed or honoured: a day. An upstream asking for more is not asking for a
 * retry, and the cap keeps the relayed seconds a plain integer (no exponent).
 */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/** Base class: an HTTP status, an OpenAI error `type`, a stable `code` and an optional `param`. */
export class GatewayError extends Error {
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly param: string | null;
  /** The wait in milliseconds (kept precise for the retry executor), capped at a day. */
  readonly retryAfterMs: number | undefined;
  /** The same wait in whole seconds, rounded up: the `retry-after` header's value. */
  readonly retryAfter: string | undefined;
  readonly upstreamFailure: UpstreamFailure | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(message: string, options: GatewayErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status;
    this.type = options.type;
    this.code = options.code;
    this.param = options.param ?? null;
    const wait = options.retryAfterMs;
    this.retryAfterMs =
      wait === undefined || Number.isNaN(wait)
        ? undefined
        : Math.min(Math.max(0, wait), MAX_RETRY_AFTER_MS);
    this.retryAfter =
      this.retryAfterMs === undefined ? undefined : String(Math.ceil(this.retryAfterMs / 1000));
    this.upstreamFailure = options.upstreamFailure;
    this.upstreamStatus = options.upstreamStatus;
  }
}

/** 400: the body is not JSON, or a request the upstream refused as malformed. */
export class InvalidRequestError extends GatewayError {
  constructor(message: string, code = 'invalid_request', param: string | null = null) {
    super(message, { status: 400, type: 'invalid_request_error', code, param });
  }
}

/** 400 invalid_json. */
export class InvalidJsonError extends InvalidRequestError {
  constructor(message = 'The request body is not valid JSON.') {
    super(message, 'invalid_json');
  }
}

/** 422: a schema violation; `param` names the offending field. */
export class ValidationError extends GatewayError {
  constructor(message: string, param: string | null) {
    super(message, { status: 422, type: 'invalid_request_error', code: 'validation_error', param });
  }
}

/** 401: the client's own key is missing or wrong. */
export class AuthenticationError extends GatewayError {
  constructor(message = 'Invalid or missing API key.') {
    super(message, { status: 401, type: 'authentication_error', code: 'invalid_api_key' });
  }
}

/** 403: an operation this gateway is configured not to allow. */
export class ForbiddenError extends GatewayError {
  constructor(message: string, code: string) {
    super(message, { status: 403, type: 'permission_error', code });
  }
}

/** 404: unknown route, provider or model. */
export class NotFoundError extends GatewayError {
  constructor(message: string, code: 'route_not_found' | 'model_not_found', param: string | null) {
    super(message, { status: 404, type: 'not_found_error', code, param });
  }
}

/** 413: body over the configured limit. */
export class RequestTooLargeError extends GatewayError {
  constructor(limitBytes: number) {
    super(`The request body exceeds the limit of ${limitBytes} bytes.`, {
      status: 413,
      type: 'invalid_request_error',
      code: 'request_too_large',
    });
  }
}

/** 408: the client did not send its request in time (server request timeout). */
export class RequestTimeoutError extends GatewayError {
  constructor() {
    super('The request was not received in time.', {
      status: 408,
      type: 'invalid_request_error',
      code: 'request_timeout',
    });
  }
}

/** 431: request headers over the server's limit. */
export class HeadersTooLargeError extends GatewayError {
  constructor() {
    super('The request headers are too large.', {
      status: 431,
      type: 'invalid_request_error',
      code: 'request_headers_too_large',
    });
  }
}

/** 503: the gateway is draining for shutdown; clients should retry on another instance. */
export class ShuttingDownError extends GatewayError {
  constructor() {
    super('The gateway is shutting down; retry the request.', {
      status: 503,
      type: 'api_error',
      code: 'server_shutting_down',
    });
  }
}

/** 429 from the upstream, relayed with its retry-after (milliseconds, or undefined). */
export class UpstreamRateLimitedError extends GatewayError {
  constructor(provider: string, retryAfterMs: number | undefined, cause?: unknown) {
    super(`The ${provider} upstream is rate limiting requests; retry later.`, {
      status: 429,
      type: 'rate_limit_error',
      code: 'upstream_rate_limited',
      upstreamFailure: 'refused',
      upstreamStatus: 429,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      cause,
    });
  }
}

/**
 * 503 from the upstream (overloaded, a model loading): relayed as 503, not 502, with its
 * retry-after, so a client knows the request was not worked on and may come back.
 */
export class UpstreamUnavailableError extends GatewayError {
  constructor(provider: string, retryAfterMs: number | undefined) {
    super(`The ${provider} upstream is unavailable; retry later.`, {
      status: 503,
      type: 'api_error',
      code: 'upstream_unavailable',
      upstreamFailure: 'refused',
      upstreamStatus: 503,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

/** 429: every deployment of the requested model is at its concurrency cap. */
export class DeploymentsBusyError extends GatewayError {
  constructor() {
    super('Every deployment of this model is at its concurrency limit; retry shortly.', {
      status: 429,
      type: 'rate_limit_error',
      code: 'deployments_busy',
      retryAfterMs: 1_000,
    });
  }
}

/** 502: the upstream could not be reached (refused, DNS, reset before a response). */
export class UpstreamUnreachableError extends GatewayError {
  /** `sent`: whether the request may have reached it (a reset, not a refused connection). */
  constructor(provider: string, cause?: unknown, sent = false) {
    super(`The ${provider} upstream could not be reached.`, {
      status: 502,
      type: 'api_error',
      code: 'upstream_unreachable',
      upstreamFailure: sent ? 'failed' : 'not_sent',
      cause,
    });
  }
}

/**
 * 502: the upstream failed (a 5xx other than 503, bad body, rejected our credentials, broke off a
 * stream). `upstreamStatus` is the status it answered with, when it answered with one.
 */
export class UpstreamError extends GatewayError {
  constructor(
    message: string,
    cause?: unknown,
    failure: UpstreamFailure = 'broken',
    upstreamStatus?: number,
  ) {
    super(message, {
      status: 502,
      type: 'api_error',
      code: 'upstream_error',
      upstreamFailure: failure,
      ...(upstreamStatus === undefined ? {} : { upstreamStatus }),
      cause,
    });
  }
}

/** 502: the upstream rejected the gateway's own credentials (401/403): never the client's 401. */
export class UpstreamCredentialsError extends UpstreamError {
  constructor(provider: string) {
    super(`The ${provider} upstream rejected the gateway's credentials.`, undefined, 'refused');
  }
}

/** 504: connect, first-byte or idle timeout towards the upstream. */
export class UpstreamTimeoutError extends GatewayError {
  constructor(provider: string, phase: 'connect' | 'first_byte' | 'idle', cause?: unknown) {
    const what = { connect: 'connecting', first_byte: 'waiting for a response', idle: 'streaming' };
    super(`The ${provider} upstream timed out while ${what[phase]}.`, {
      status: 504,
      type: 'api_error',
      code: 'upstream_timeout',
      upstreamFailure:
        phase === 'connect' ? 'not_sent' : phase === 'first_byte' ? 'failed' : 'broken',
      cause,
    });
  }
}

/** 499 (never written): the client went away; used for logs and to stop work. */
export class ClientClosedError extends GatewayError {
  constructor() {
    super('The client closed the request.', {
      status: 499,
      type: 'invalid_request_error',
      code: 'client_closed_request',
    });
  }
}

/** 500: our own bug. The message is generic; the cause goes to the log only. */
export class InternalError extends GatewayError {
  constructor(cause?: unknown) {
    super('The gateway hit an internal error.', {
      status: 500,
      type: 'api_error',
      code: 'internal_error',
      cause,
    });
  }
}

/** The OpenAI error body. */
export interface ErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: ErrorType;
    readonly param: string | null;
    readonly code: string;
  };
}

/** Ollama's own error body, for its native API (`/{provider}/api/*`), which its clients parse. */
export interface OllamaErrorBody {
  readonly error: string;
}

/** Which API's error shape a route answers in: OpenAI's everywhere, Ollama's on its native API. */
export type ErrorFormat = 'openai' | 'ollama';

/** The single place an error becomes the wire body. */
export function toErrorBody(error: GatewayError): ErrorBody;
export function toErrorBody(error: GatewayError, format: ErrorFormat): ErrorBody | OllamaErrorBody;
export function toErrorBody(
  error: GatewayError,
  format: ErrorFormat = 'openai',
): ErrorBody | OllamaErrorBody {
  if (format === 'ollama') return { error: error.message };
  return {
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  };
}

/** Anything thrown → a GatewayError; unknown throwables are our bugs. */
export function asGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : new InternalError(error);
}
