import {
  type GatewayError,
  InvalidRequestError,
  NotFoundError,
  UpstreamCredentialsError,
  UpstreamError,
  UpstreamRateLimitedError,
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
    return new UpstreamRateLimitedError(provider, retryAfterSeconds(response.headers));
  }
  if (status === 401 || status === 403) {
    // Our provider key, never the client's: a gateway-side failure, not a 401 for the client.
    return new UpstreamCredentialsError(provider);
  }
  if (status === 404) {
    const model = context.model ?? 'requested';
    return new NotFoundError(
      `The model '${model}' does not exist on provider '${provider}'.`,
      'model_not_found',
      'model',
    );
  }
  if (status === 400 || status === 413 || status === 422) {
    const detail = scrubSecrets(extractMessage(text), context.secrets, 300);
    return new InvalidRequestError(
      `The ${provider} upstream rejected the request${detail === '' ? '.' : `: ${detail}`}`,
      'upstream_bad_request',
    );
  }
  // 503 is "not now" (overloaded, loading): nothing was done. Other statuses may have been.
  return new UpstreamError(
    `The ${provider} upstream failed with status ${status}.`,
    undefined,
    status === 503 ? 'refused' : 'failed',
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

/** `retry-after` (seconds or HTTP date) or `retry-after-ms`, as whole seconds. */
function retryAfterSeconds(headers: UpstreamResponse['headers']): string | undefined {
  const milliseconds = Number(headers['retry-after-ms']);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) {
    return String(Math.ceil(milliseconds / 1000));
  }
  const raw = headers['retry-after'];
  if (typeof raw !== 'string') return undefined;
  if (/^\d+$/.test(raw.trim())) return raw.trim();
  const date = Date.parse(raw);
  if (Number.isNaN(date)) return undefined;
  return String(Math.max(0, Math.ceil((date - Date.now()) / 1000)));
}
