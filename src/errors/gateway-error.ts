/**
 * The one error hierarchy. Every failure the gateway reports is a GatewayError carrying a code of
 * the catalogue (`error-codes.ts`); only the HTTP error handler and the SSE writer put one on the
 * wire, each through the error encoder of the API that the route serves.
 */
import { ERROR_CODES, type ErrorCode, type ErrorCodeWith, type ErrorType } from './error-codes.js';

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
  readonly code: ErrorCode;
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
  /** Retrying cannot help (a spent budget): said to clients as `x-should-retry: false`. */
  readonly final?: boolean;
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
  readonly code: ErrorCode;
  readonly param: string | null;
  /** The wait in milliseconds (kept precise for the retry executor), capped at a day. */
  readonly retryAfterMs: number | undefined;
  /** The same wait in whole seconds, rounded up: the `retry-after` header's value. */
  readonly retryAfter: string | undefined;
  readonly upstreamFailure: UpstreamFailure | undefined;
  readonly upstreamStatus: number | undefined;
  readonly final: boolean;
  /** The deployments a routed request tried and how each failed, for the ledger (`AttemptLog`). */
  tried: string | undefined;

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
    this.final = options.final === true;
  }
}

/** 400: a malformed request (the body is not JSON, a bad URL, …) or one the upstream refused as such. */
export class InvalidRequestError extends GatewayError {
  constructor(
    message: string,
    code: ErrorCodeWith<400, 'invalid_request_error'> = ERROR_CODES.INVALID_REQUEST.code,
    param: string | null = null,
  ) {
    super(message, { status: 400, type: 'invalid_request_error', code, param });
  }
}

/** 400 invalid_json. */
export class InvalidJsonError extends InvalidRequestError {
  constructor(message = 'The request body is not valid JSON.') {
    super(message, ERROR_CODES.INVALID_JSON.code);
  }
}

/** 422: a schema violation; `param` names the offending field. */
export class ValidationError extends GatewayError {
  constructor(message: string, param: string | null) {
    const { status, type, code } = ERROR_CODES.VALIDATION_ERROR;
    super(message, { status, type, code, param });
  }
}

/** 401: the client's own key is missing or wrong. */
export class AuthenticationError extends GatewayError {
  constructor(message = 'Invalid or missing API key.') {
    super(message, ERROR_CODES.INVALID_API_KEY);
  }
}

/** 403: an operation this gateway is configured not to allow. */
export class ForbiddenError extends GatewayError {
  constructor(message: string, code: ErrorCodeWith<403, 'permission_error'>) {
    super(message, { status: 403, type: 'permission_error', code });
  }
}

/** 404: unknown route, provider or model. */
export class NotFoundError extends GatewayError {
  constructor(message: string, code: ErrorCodeWith<404, 'not_found_error'>, param: string | null) {
    super(message, { status: 404, type: 'not_found_error', code, param });
  }
}

/** 413: body over the configured limit. */
export class RequestTooLargeError extends GatewayError {
  constructor(limitBytes: number) {
    super(
      `The request body exceeds the limit of ${limitBytes} bytes.`,
      ERROR_CODES.REQUEST_TOO_LARGE,
    );
  }
}

/** 408: the client did not send its request in time (server request timeout). */
export class RequestTimeoutError extends GatewayError {
  constructor() {
    super('The request was not received in time.', ERROR_CODES.REQUEST_TIMEOUT);
  }
}

/** 431: request headers over the server's limit. */
export class HeadersTooLargeError extends GatewayError {
  constructor() {
    super('The request headers are too large.', ERROR_CODES.REQUEST_HEADERS_TOO_LARGE);
  }
}

/** 503: the gateway is draining for shutdown; clients should retry on another instance. */
export class ShuttingDownError extends GatewayError {
  constructor() {
    super('The gateway is shutting down; retry the request.', ERROR_CODES.SERVER_SHUTTING_DOWN);
  }
}

/** 429 from the upstream, relayed with its retry-after (milliseconds, or undefined). */
export class UpstreamRateLimitedError extends GatewayError {
  constructor(provider: string, retryAfterMs: number | undefined, cause?: unknown) {
    const { status, type, code } = ERROR_CODES.UPSTREAM_RATE_LIMITED;
    super(`The ${provider} upstream is rate limiting requests; retry later.`, {
      status,
      type,
      code,
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
    const { status, type, code } = ERROR_CODES.UPSTREAM_UNAVAILABLE;
    super(`The ${provider} upstream is unavailable; retry later.`, {
      status,
      type,
      code,
      upstreamFailure: 'refused',
      upstreamStatus: 503,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}

/** 429: a virtual key or its team is at a rate or concurrency limit (OpenAI's shape). */
export class RateLimitExceededError extends GatewayError {
  constructor(message: string, limit: 'requests' | 'tokens', retryAfterMs: number) {
    const { status, code } = ERROR_CODES.RATE_LIMIT_EXCEEDED;
    super(message, { status, type: limit, code, retryAfterMs });
  }
}

/** 429: a virtual key's or its team's budget is spent; retrying before the period ends is futile. */
export class InsufficientQuotaError extends GatewayError {
  constructor(message: string) {
    super(message, { ...ERROR_CODES.INSUFFICIENT_QUOTA, final: true });
  }
}

/** 503: the database cannot be reached for what this request needs. */
export class StoreUnavailableError extends GatewayError {
  constructor(cause?: unknown) {
    super('The gateway cannot reach its database; retry shortly.', {
      ...ERROR_CODES.STORE_UNAVAILABLE,
      retryAfterMs: 1_000,
      cause,
    });
  }
}

/**
 * 429: every deployment that could serve the request (`provider/model` each, from the config) is
 * at its concurrency cap. A pinned route has one, a routed model one or more: the message names
 * them, so it is true of either.
 */
export class DeploymentsBusyError extends GatewayError {
  constructor(deployments: readonly string[]) {
    const { status, type, code } = ERROR_CODES.DEPLOYMENTS_BUSY;
    super(
      deployments.length === 1
        ? `The deployment ${deployments[0]} is at its concurrency limit; retry shortly.`
        : `Every deployment of this model (${deployments.join(', ')}) is at its concurrency limit; retry shortly.`,
      { status, type, code, retryAfterMs: 1_000 },
    );
  }
}

/** 502: the upstream could not be reached (refused, DNS, reset before a response). */
export class UpstreamUnreachableError extends GatewayError {
  /** `sent`: whether the request may have reached it (a reset, not a refused connection). */
  constructor(provider: string, cause?: unknown, sent = false) {
    const { status, type, code } = ERROR_CODES.UPSTREAM_UNREACHABLE;
    super(`The ${provider} upstream could not be reached.`, {
      status,
      type,
      code,
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
    const { status, type, code } = ERROR_CODES.UPSTREAM_ERROR;
    super(message, {
      status,
      type,
      code,
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
    const { status, type, code } = ERROR_CODES.UPSTREAM_TIMEOUT;
    super(`The ${provider} upstream timed out while ${what[phase]}.`, {
      status,
      type,
      code,
      upstreamFailure:
        phase === 'connect' ? 'not_sent' : phase === 'first_byte' ? 'failed' : 'broken',
      cause,
    });
  }
}

/** 499 (never written): the client went away; used for logs and to stop work. */
export class ClientClosedError extends GatewayError {
  constructor() {
    super('The client closed the request.', ERROR_CODES.CLIENT_CLOSED_REQUEST);
  }
}

/** 500: our own bug. The message is generic; the cause goes to the log only. */
export class InternalError extends GatewayError {
  constructor(cause?: unknown) {
    const { status, type, code } = ERROR_CODES.INTERNAL_ERROR;
    super('The gateway hit an internal error.', { status, type, code, cause });
  }
}

/** Anything thrown → a GatewayError; unknown throwables are our bugs. */
export function asGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError ? error : new InternalError(error);
}
