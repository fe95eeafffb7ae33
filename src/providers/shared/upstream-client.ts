import { type Dispatcher, errors, Pool } from 'undici';
import {
  ClientClosedError,
  GatewayError,
  UpstreamError,
  UpstreamTimeoutError,
  UpstreamUnreachableError,
} from '../../errors/gateway-error.js';
import { type CallSignal, onAbort } from '../call-signal.js';
import type { StaleConnections } from './stale-connections.js';

/** How to reach one upstream origin. */
export interface UpstreamClientSettings {
  /** Provider id, for error messages. */
  readonly provider: string;
  /** Base URL including any path prefix, e.g. `https://api.cerebras.ai/v1`. */
  readonly baseUrl: string;
  /** Sent on every request (the provider's own credentials). Never the client's. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The provider's API key, sent on every request in the header its vendor takes it in. */
  readonly apiKey?: { readonly value: string; readonly style: AuthHeaderStyle } | undefined;
  readonly connectTimeoutMs: number;
  /** Time from sending the request to the response headers. */
  readonly firstByteTimeoutMs: number;
  /** Longest silence allowed between two body chunks; there is no total limit. */
  readonly idleTimeoutMs: number;
}

/**
 * How a vendor takes an API key: `Authorization: Bearer <key>` (OpenAI and its compatibles) or
 * `x-api-key: <key>` (Anthropic's style).
 */
export type AuthHeaderStyle = 'bearer' | 'x-api-key';

/** The header each style sends the key in, lower-case as undici sends header names. */
export const AUTH_HEADER_NAMES: Readonly<Record<AuthHeaderStyle, string>> = {
  bearer: 'authorization',
  'x-api-key': 'x-api-key',
};

export interface UpstreamRequestOptions {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  /** Appended to the base URL's path, e.g. `/chat/completions`. */
  readonly path: string;
  readonly body?: string | undefined;
  readonly signal: CallSignal;
  readonly requestId: string;
  /** Overrides the first-byte timeout for this call (readiness probes). */
  readonly firstByteTimeoutMs?: number;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Dispatcher.ResponseData['body'];
}

export interface UpstreamTextRequestOptions extends UpstreamRequestOptions {
  /** Largest successful body read; past it the call fails. See {@link ERROR_BODY_LIMIT}. */
  readonly limitBytes: number;
}

/** A response read whole, for the calls that do not stream. */
export interface UpstreamTextResponse {
  readonly status: number;
  readonly headers: UpstreamResponse['headers'];
  /** The body as UTF-8; empty for an error body cut short or past {@link ERROR_BODY_LIMIT}. */
  readonly text: string;
}

/** Pooled keep-alive HTTP to one upstream origin; failures come out as GatewayErrors. */
export interface UpstreamClient {
  readonly provider: string;
  /** The response as a stream (streams, passthrough), whatever its status. */
  request(options: UpstreamRequestOptions): Promise<UpstreamResponse>;
  /**
   * The response read whole, whatever its status, with no body stream in between (cheaper than
   * `request` and reading its body: docs/performance.md, "Measured choices in the code"). A
   * failure after the response began is a broken response, never repeated.
   */
  requestText(options: UpstreamTextRequestOptions): Promise<UpstreamTextResponse>;
  close(): Promise<void>;
}

/** Error bodies are only read for their message: one longer than this comes back empty. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** Largest non-streaming upstream body the providers accept. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** Who hears of what a client does on its own: a request repeated after a stale connection. */
export interface UpstreamObservers {
  /** The repeat is logged at warn: it is an attempt on the wire like any other. */
  readonly logger?: { warn(object: object, message: string): void };
  /** Counts the repeat (the attempts metric). */
  readonly onStaleRepeat?: (provider: string) => void;
}

/** What a client may be given besides its settings. */
export interface UpstreamClientDeps extends UpstreamObservers {
  /** Recognises requests lost with a stale keep-alive connection; without it none is repeated. */
  readonly staleConnections?: StaleConnections;
}

/**
 * Builds a client over an undici Pool. With `staleConnections`, a request that failed because the
 * upstream had just closed its reused keep-alive connection is sent once more, on a new one.
 */
export function createUpstreamClient(
  settings: UpstreamClientSettings,
  { staleConnections, logger, onStaleRepeat }: UpstreamClientDeps = {},
): UpstreamClient {
  const url = new URL(settings.baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const pool = new Pool(url.origin, {
    connect: { timeout: settings.connectTimeoutMs },
    headersTimeout: settings.firstByteTimeoutMs,
    bodyTimeout: settings.idleTimeoutMs,
    // Explicit rather than undici's defaults; the upstream's Keep-Alive hint still shortens it.
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
  });
  const { apiKey } = settings;
  const fixedHeaders = {
    'user-agent': 'ai-gateway',
    accept: 'application/json, text/event-stream, application/x-ndjson',
    ...settings.headers,
    ...(apiKey === undefined
      ? {}
      : {
          [AUTH_HEADER_NAMES[apiKey.style]]:
            apiKey.style === 'bearer' ? `Bearer ${apiKey.value}` : apiKey.value,
        }),
  };
  const jsonHeaders = { ...fixedHeaders, 'content-type': 'application/json' };

  const dispatchOptions = (options: UpstreamRequestOptions) => ({
    origin: url.origin,
    method: options.method,
    path: basePath + options.path,
    headers: {
      ...(options.body === undefined ? fixedHeaders : jsonHeaders),
      'x-request-id': options.requestId,
    },
    body: options.body ?? null,
    headersTimeout: options.firstByteTimeoutMs ?? settings.firstByteTimeoutMs,
    // For `request`; a bare dispatch ignores it (readWhole listens itself).
    signal: options.signal,
  });

  const send = async (options: UpstreamRequestOptions): Promise<UpstreamResponse> => {
    const response = await pool.request(dispatchOptions(options));
    return { status: response.statusCode, headers: response.headers, body: response.body };
  };

  const sendText = (options: UpstreamTextRequestOptions) =>
    readWhole(pool, dispatchOptions(options), options, settings.provider);

  /** Runs one attempt; an attempt lost with a stale keep-alive connection is made once more. */
  async function attempt<Result>(
    options: UpstreamRequestOptions,
    run: () => Promise<Result>,
  ): Promise<Result> {
    const started = performance.now();
    try {
      return await run();
    } catch (error) {
      // Once only: the upstream dropped an idle connection, not our request; the pool sends the
      // repeat on another connection.
      if (staleConnections?.isStale(error) === true && !options.signal.aborted) {
        logger?.warn(
          {
            requestId: options.requestId,
            provider: settings.provider,
            path: options.path,
            latencyMs: Math.round(performance.now() - started),
          },
          'upstream dropped a reused idle connection under the request; sending it again',
        );
        onStaleRepeat?.(settings.provider);
        try {
          return await run();
        } catch (repeatError) {
          throw toUpstreamError(settings.provider, repeatError, options.signal, 'request');
        }
      }
      throw toUpstreamError(settings.provider, error, options.signal, 'request');
    }
  }

  return {
    provider: settings.provider,
    request: (options) => attempt(options, () => send(options)),
    requestText: (options) => attempt(options, () => sendText(options)),
    async close() {
      await pool.close();
    },
  };
}

/**
 * One request through undici's handler interface, the body collected in memory: no body stream,
 * no async iteration. Before the response, failures reject as undici reports them (so a stale
 * connection is recognised); after it began, as a broken response. A successful body past
 * `limitBytes` fails; an error body past {@link ERROR_BODY_LIMIT}, or cut short, comes back empty.
 */
function readWhole(
  pool: Pool,
  dispatchOptions: Dispatcher.DispatchOptions,
  { signal, limitBytes }: UpstreamTextRequestOptions,
  provider: string,
): Promise<UpstreamTextResponse> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new ClientClosedError());
      return;
    }
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: UpstreamResponse['headers'] = {};
    let limit = limitBytes;
    let parts: Buffer[] = [];
    let size = 0;
    let responded = false;
    // Errors are made only when needed: capturing a stack costs more than the rest of the call.
    const stopListening = onAbort(signal, () =>
      controller?.abort(new errors.RequestAbortedError()),
    );

    pool.dispatch(dispatchOptions, {
      onRequestStart(started) {
        controller = started;
        if (signal.aborted) started.abort(new errors.RequestAbortedError());
      },
      onResponseStart(_controller, statusCode, responseHeaders) {
        responded = true;
        status = statusCode;
        headers = responseHeaders;
        if (isErrorStatus(statusCode)) limit = Math.min(limit, ERROR_BODY_LIMIT);
      },
      onResponseData(current, chunk) {
        size += chunk.length;
        if (size <= limit) {
          parts.push(chunk);
          return;
        }
        parts = [];
        current.abort(new UpstreamError(`The upstream response exceeded ${limitBytes} bytes.`));
      },
      onResponseEnd() {
        stopListening();
        resolve({ status, headers, text: Buffer.concat(parts, size).toString('utf8') });
      },
      onResponseError(_controller, error) {
        stopListening();
        if (!responded) reject(error);
        // An error body is only read for its message: too long or cut short, the status stands.
        else if (isErrorStatus(status) && !signal.aborted) resolve({ status, headers, text: '' });
        else reject(toUpstreamError(provider, error, signal, 'body'));
      },
    });
  });
}

/** Anything but a 2xx: the providers' one rule for an upstream's failure. */
export function isErrorStatus(status: number): boolean {
  return status < 200 || status >= 300;
}

/** The connection was never made: the upstream cannot have seen the request. */
const NOT_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
/** The connection broke before a response: the request may have reached the upstream. */
const BROKEN_CONNECTION_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * Maps a failure of an upstream call to a GatewayError. `phase` tells whether the response had
 * begun: a reset before it is "unreachable", a reset while reading the body is a broken response.
 */
export function toUpstreamError(
  provider: string,
  error: unknown,
  signal: CallSignal,
  phase: 'request' | 'body',
): GatewayError {
  if (error instanceof GatewayError) return error;
  if (signal.aborted) return new ClientClosedError();
  if (error instanceof errors.ConnectTimeoutError) {
    return new UpstreamTimeoutError(provider, 'connect', error);
  }
  if (error instanceof errors.HeadersTimeoutError) {
    return new UpstreamTimeoutError(provider, 'first_byte', error);
  }
  if (error instanceof errors.BodyTimeoutError) {
    return new UpstreamTimeoutError(provider, 'idle', error);
  }
  if (error instanceof errors.RequestAbortedError) return new ClientClosedError();
  const code = (error as { code?: unknown } | null)?.code;
  if (phase === 'request' && typeof code === 'string') {
    if (NOT_CONNECTED_CODES.has(code)) return new UpstreamUnreachableError(provider, error, false);
    if (BROKEN_CONNECTION_CODES.has(code))
      return new UpstreamUnreachableError(provider, error, true);
  }
  if (phase === 'body') {
    return new UpstreamError(`The ${provider} upstream broke off its response.`, error);
  }
  return new UpstreamError(`The ${provider} upstream request failed.`, error, 'failed');
}

/**
 * Drops an upstream body we will not read (and its connection, if unfinished). undici reports a
 * destroyed body with an 'error' event, which nobody may be listening to any more: swallowed.
 */
export function discardBody(body: UpstreamResponse['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}
