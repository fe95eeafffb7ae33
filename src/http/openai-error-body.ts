import type { ErrorType } from '../errors/error-codes.js';
import type { GatewayError } from '../errors/gateway-error.js';

/** OpenAI's error body, which its SDKs parse into an `APIError` with `code`, `type` and `param`. */
export interface OpenAiErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: ErrorType;
    readonly param: string | null;
    readonly code: string;
  };
}

/**
 * The error encoder of the OpenAI routes, and the one written wherever no API plugin chose
 * another (unknown routes, malformed requests, the server's own client errors).
 */
export function openAiErrorBody(error: GatewayError): OpenAiErrorBody {
  return {
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  };
}
