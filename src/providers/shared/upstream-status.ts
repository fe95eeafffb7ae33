import { ERROR_CODES } from '../../errors/error-codes.js';
import {
  type GatewayError,
  InvalidRequestError,
  NotFoundError,
  UpstreamCredentialsError,
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
} from '../../errors/gateway-error.js';
import { scrubSecrets } from '../../errors/scrub-secrets.js';
import {
  discardBody,
  ERROR_BODY_LIMIT,
  type UpstreamResponse,
  type UpstreamTextResponse,
} from './upstream-client.js';

export interface UpstreamStatusContext {
  readonly provider: string;
  /** The model the client asked for, named in a 404. */
  readonly model?: string | undefined;
  /** The provider's own credentials, scrubbed from any relayed text. */
  readonly secrets: readonly string[];
}

/** {@link statusError} for a streamed response: reads (consumes) its body first. */
export async function upstreamStatusError(
  response: UpstreamResponse,
  context: UpstreamStatusContext,
): Promise<GatewayError> {
  const text = await readText(response, ERROR_BODY_LIMIT).catch(() => '');
  return statusError({ status: response.status, headers: response.headers, text }, context);
}

/**
 * Turns a non-2xx upstream response into the GatewayError the client sees. Upstream text is
 * relayed only for request errors, and only scrubbed.
 */
export function statusError(
  response: UpstreamTextResponse,
  context: UpstreamStatusContext,
): GatewayError {
  const { status, text } = response;
  const { provider } = context;
  if (status === 429) {
    return new UpstreamRateLimitedError(provider, retryAfterMs(response.headers));
  }
  // "Not now" (overloaded, a model loading): nothing was done, and the client should hear so.
  if (status === 503) return new UpstreamUnavailableError(provider, retryAfterMs(response.headers));
  if (status === 401 || status === 403) {
    // Our provider key, never the client's: a gateway-side failure, not a 401 for the client.
    return new UpstreamCredentialsError(provider);
  }
  if (status === 404) {
    const model = context.model ?? 'requested';
    return new NotFoundError(
      `The model '${model}' does not exist on provider '${provider}'.`,
      ERROR_CODES.MODEL_NOT_FOUND.code,
      'model',
    );
  }
  if (status === 400 || status === 413 || status === 422) {
    const detail = scrubSecrets(extractMessage(text), context.secrets, 300);
    return new InvalidRequestError(
      `The ${provider} upstream rejected the request${detail === '' ? '.' : `: ${detail}`}`,
      ERROR_CODES.UPSTREAM_BAD_REQUEST.code,
    );
  }
  // Any other status may have come after the upstream worked on the request; the retry policy
  // reads the status to tell a gateway's 502/504 in front of the model from the model's own 500.
  return new UpstreamError(
    `The ${provider} upstream failed with status ${status}.`,
    undefined,
    'failed',
    status,
  );
}

/**
 * Reads a streamed body as UTF-8 up to `limitBytes` (error bodies of streams and passthrough;
 * non-streaming calls use `requestText`); throws UpstreamError past that, and settles for a body
 * that is already over.
 */
export function readText(response: UpstreamResponse, limitBytes: number): Promise<string> {
  const { body } = response;
  // Listeners would wait forever on a body that is already over.
  if (body.readableEnded) return Promise.resolve('');
  if (body.destroyed) return Promise.reject(body.errored ?? cutShort());
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let ended = false;
    const stop = () => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const onData = (part: Buffer) => {
      size += part.length;
      if (size > limitBytes) {
        stop();
        discardBody(body);
        reject(new UpstreamError(`The upstream response exceeded ${limitBytes} bytes.`));
        return;
      }
      parts.push(part);
    };
    const onEnd = () => {
      ended = true;
      stop();
      resolve(Buffer.concat(parts, size).toString('utf8'));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    // Destroyed without an error (and without its end): the body was cut short.
    const onClose = () => {
      if (ended) return;
      stop();
      reject(cutShort());
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}

function cutShort(): UpstreamError {
  return new UpstreamError('The upstream response ended before it was complete.');
}

/** Parses an upstream body; garbage is a 502 that does not quote it. */
export function parseJson(text: string, provider: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UpstreamError(`The ${provider} upstream returned a response that is not valid JSON.`);
  }
}

/** Pulls the human message out of OpenAI (`error.message`), Ollama (`error`) or plain bodies. */
function extractMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    if (typeof body.error === 'string') return body.error;
    if (typeof body.error === 'object' && body.error !== null) {
      const message = (body.error as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
    if (typeof body.message === 'string') return body.message;
    return '';
  } catch {
    return '';
  }
}

/** IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the obsolete RFC 850 form. */
const HTTP_DATE = /^[A-Za-z]{3,9}, \d{2}[ -][A-Za-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/;
/** The obsolete asctime form (`Sun Nov  6 08:49:37 1994`), which carries no zone: it is GMT. */
const ASCTIME_DATE = /^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * How long an upstream asks us to wait, in milliseconds: `retry-after-ms` (OpenAI's and Azure's
 * precise form) when it is a non-negative number, else `retry-after` as delay-seconds (decimals
 * tolerated) or as an HTTP date in any of the three forms RFC 9110 §5.6.7 has recipients accept
 * (a date already past is 0). Undefined when neither is usable. The single parser of these
 * headers: the error keeps the milliseconds for the retry executor and relays whole seconds.
 */
export function retryAfterMs(
  headers: UpstreamResponse['headers'],
  now: number = Date.now(),
): number | undefined {
  const precise = headers['retry-after-ms'];
  if (typeof precise === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(precise)) {
    return Math.ceil(Number(precise));
  }
  const raw = headers['retry-after'];
  if (typeof raw !== 'string') return undefined;
  const value = raw.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // Date.parse alone would read "5" or "May 5" as dates in 2001: only the HTTP forms are dates.
  let date = Number.NaN;
  if (HTTP_DATE.test(value)) date = Date.parse(value);
  else if (ASCTIME_DATE.test(value)) date = Date.parse(`${value} GMT`);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
