import type { CallContext } from '../provider.js';
import {
  isErrorStatus,
  MAX_RESPONSE_BYTES,
  type UpstreamClient,
  type UpstreamResponse,
} from './upstream-client.js';
import { parseJson, statusError, upstreamStatusError } from './upstream-status.js';

/** One provider's side of its upstream calls: the client, its name and what to scrub. */
export interface UpstreamTarget {
  readonly upstream: UpstreamClient;
  readonly provider: string;
  /** The provider's own credentials, scrubbed from any relayed upstream text. */
  readonly secrets: readonly string[];
}

/** One call: where, with what JSON text (none for a GET), for which client model (named in a 404). */
export interface UpstreamCall {
  readonly path: string;
  readonly body?: string | undefined;
  readonly model?: string | undefined;
}

/**
 * The non-streaming upstream call every provider makes: any 2xx is a success, parsed as JSON (its
 * text kept, so an unchanged body can be relayed as it came); anything else is the upstream's
 * failure as a GatewayError.
 */
export async function callJson(
  target: UpstreamTarget,
  ctx: CallContext,
  call: UpstreamCall,
): Promise<{ readonly body: unknown; readonly text: string }> {
  const response = await target.upstream.requestText({
    method: call.body === undefined ? 'GET' : 'POST',
    path: call.path,
    body: call.body,
    signal: ctx.signal,
    requestId: ctx.requestId,
    limitBytes: MAX_RESPONSE_BYTES,
  });
  if (isErrorStatus(response.status)) {
    throw statusError(response, {
      provider: target.provider,
      model: call.model,
      secrets: target.secrets,
    });
  }
  return { body: parseJson(response.text, target.provider), text: response.text };
}

/**
 * A streaming POST: resolves with the response once the upstream answered with a 2xx; any other
 * status is read off and thrown as the upstream's failure, before any byte reached the client.
 */
export async function openStream(
  target: UpstreamTarget,
  ctx: CallContext,
  call: UpstreamCall & { readonly body: string },
): Promise<UpstreamResponse> {
  const response = await target.upstream.request({
    method: 'POST',
    path: call.path,
    body: call.body,
    signal: ctx.signal,
    requestId: ctx.requestId,
  });
  if (isErrorStatus(response.status)) {
    throw await upstreamStatusError(response, {
      provider: target.provider,
      model: call.model,
      secrets: target.secrets,
    });
  }
  return response;
}
