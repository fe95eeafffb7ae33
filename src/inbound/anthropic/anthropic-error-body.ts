import type { GatewayError } from '../../errors/gateway-error.js';

/** Anthropic's error `type`, by which its SDKs and Claude Code tell failures apart. */
export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

/** The body of an error response, and the data of an `event: error` frame. */
export interface AnthropicErrorBody {
  readonly type: 'error';
  readonly error: { readonly type: AnthropicErrorType; readonly message: string };
}

/**
 * Anthropic's type for the status the gateway answers with. A 503 (the upstream overloaded or a
 * model loading, after the retries; the gateway draining) is `overloaded_error`, as Anthropic's
 * own 529 is: both mean "not now, come back", and Claude Code retries them. Other 5xx are
 * `api_error`; other 4xx (405, 408, the provider's 422, 431) are `invalid_request_error`.
 */
export function anthropicErrorType(status: number): AnthropicErrorType {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * The error encoder of the Messages routes: `{"type":"error","error":{"type","message"}}`. The
 * request id travels in the `request-id` header (read by Anthropic's SDKs into `requestID`) and
 * in `x-request-id`; the gateway's stable code is in its access line.
 */
export function anthropicErrorBody(error: GatewayError): AnthropicErrorBody {
  return {
    type: 'error',
    error: { type: anthropicErrorType(error.status), message: error.message },
  };
}
