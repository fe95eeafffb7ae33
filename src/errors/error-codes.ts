/**
 * The catalogue of every error code the gateway answers with, as Fastify's `lib/errors.js` is for
 * Fastify's: each code one named constant with its HTTP status, its OpenAI error `type` and when
 * it is used. Clients match on these codes, so they are stable; `docs/errors.md` lists every entry
 * (a test keeps the two in step). How a code is written on the wire is each inbound API's own
 * business (its error encoder); the catalogue holds no body shape.
 */

/** OpenAI's error `type`, which its SDKs (and our clients) branch on. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  // OpenAI's own types for a key's limits: which rate limit was hit, or the budget.
  | 'requests'
  | 'tokens'
  | 'insufficient_quota';

/** One entry of the catalogue. */
export interface ErrorCodeEntry {
  /** The stable code, as clients see it (`error.code` in the OpenAI body). */
  readonly code: string;
  readonly status: number;
  readonly type: ErrorType;
  /** When the gateway answers with it: one line, repeated in docs/errors.md. */
  readonly when: string;
}

/**
 * Every error code, by its constant's name (the code in upper case). Add a code here, then to
 * docs/errors.md; a class in `gateway-error.ts` or a call site takes it from here, so a code that
 * is not in the catalogue does not compile.
 */
export const ERROR_CODES = {
  INVALID_JSON: {
    code: 'invalid_json',
    status: 400,
    type: 'invalid_request_error',
    when: 'The body is not valid JSON, or is empty.',
  },
  JSON_TOO_DEEP: {
    code: 'json_too_deep',
    status: 400,
    type: 'invalid_request_error',
    when: 'The JSON body is nested deeper than 100 levels.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    status: 400,
    type: 'invalid_request_error',
    when: 'The body has a Content-Type other than JSON.',
  },
  UNSUPPORTED_CONTENT_ENCODING: {
    code: 'unsupported_content_encoding',
    status: 400,
    type: 'invalid_request_error',
    when: 'The body is compressed (a Content-Encoding other than identity).',
  },
  INVALID_URL: {
    code: 'invalid_url',
    status: 400,
    type: 'invalid_request_error',
    when: 'The URL cannot be decoded, or a native API path holds a control character.',
  },
  MALFORMED_REQUEST: {
    code: 'malformed_request',
    status: 400,
    type: 'invalid_request_error',
    when: 'The HTTP request itself is malformed; the connection is closed after the answer.',
  },
  INVALID_REQUEST: {
    code: 'invalid_request',
    status: 400,
    type: 'invalid_request_error',
    when: 'Any other malformed request, such as a Content-Length that does not match the body.',
  },
  INVALID_MODEL_NAME: {
    code: 'invalid_model_name',
    status: 400,
    type: 'invalid_request_error',
    when: 'A model or provider name holds a control character (U+0000–U+001F, U+007F); `param` names the field.',
  },
  INVALID_BLOB_DIGEST: {
    code: 'invalid_blob_digest',
    status: 400,
    type: 'invalid_request_error',
    when: 'A native API blob path (`/{provider}/api/blobs/…`) names no sha256 digest.',
  },
  PREVIOUS_RESPONSE_NOT_FOUND: {
    code: 'previous_response_not_found',
    status: 400,
    type: 'invalid_request_error',
    when: 'Stored state was named (`previous_response_id`, `conversation`, an `item_reference`): the gateway is stateless; `param` names it.',
  },
  UPSTREAM_BAD_REQUEST: {
    code: 'upstream_bad_request',
    status: 400,
    type: 'invalid_request_error',
    when: 'The upstream refused the request as invalid (its 400, 413 or 422); its message is scrubbed.',
  },
  INVALID_PARAMETER: {
    code: 'invalid_parameter',
    status: 400,
    type: 'invalid_request_error',
    when: 'An admin API field is unknown, of the wrong type or out of range; `param` names it.',
  },
  INVALID_API_KEY: {
    code: 'invalid_api_key',
    status: 401,
    type: 'authentication_error',
    when: 'The API key is missing or wrong (with `WWW-Authenticate: Bearer`).',
  },
  MANAGEMENT_DISABLED: {
    code: 'management_disabled',
    status: 403,
    type: 'permission_error',
    when: "Ollama's model management or blobs are asked for while `OLLAMA_ALLOW_MANAGEMENT` is off.",
  },
  MODEL_NOT_ALLOWED: {
    code: 'model_not_allowed',
    status: 403,
    type: 'permission_error',
    when: "The model is not on the virtual key's or its team's allowlist.",
  },
  CSRF_TOKEN_INVALID: {
    code: 'csrf_token_invalid',
    status: 403,
    type: 'permission_error',
    when: "A console request that changes something has the session cookie but not the session's `x-csrf-token`.",
  },
  ROUTE_NOT_FOUND: {
    code: 'route_not_found',
    status: 404,
    type: 'not_found_error',
    when: 'No such route, or no such provider in a `/{provider}/…` path.',
  },
  MODEL_NOT_FOUND: {
    code: 'model_not_found',
    status: 404,
    type: 'not_found_error',
    when: 'The upstream does not know the model (its 404).',
  },
  EMBEDDINGS_NOT_SUPPORTED: {
    code: 'embeddings_not_supported',
    status: 404,
    type: 'not_found_error',
    when: 'The provider serves no embeddings (a chat-only vendor); a routed request tries the next deployment first.',
  },
  RESOURCE_NOT_FOUND: {
    code: 'resource_not_found',
    status: 404,
    type: 'not_found_error',
    when: 'An admin API path names a team or key that does not exist, or `/v1/key` is asked with a static key.',
  },
  METHOD_NOT_ALLOWED: {
    code: 'method_not_allowed',
    status: 405,
    type: 'invalid_request_error',
    when: 'A method other than GET or HEAD on the metrics listener (with `Allow`).',
  },
  REQUEST_TIMEOUT: {
    code: 'request_timeout',
    status: 408,
    type: 'invalid_request_error',
    when: 'The request did not arrive within `REQUEST_TIMEOUT_MS`, or its body paused for `BODY_TIMEOUT_MS`.',
  },
  REQUEST_TOO_LARGE: {
    code: 'request_too_large',
    status: 413,
    type: 'invalid_request_error',
    when: 'The body is over `BODY_LIMIT_BYTES`.',
  },
  VALIDATION_ERROR: {
    code: 'validation_error',
    status: 422,
    type: 'invalid_request_error',
    when: 'A schema violation (wrong type, missing field, out of range) or a field the provider cannot honour; `param` names the field.',
  },
  UPSTREAM_RATE_LIMITED: {
    code: 'upstream_rate_limited',
    status: 429,
    type: 'rate_limit_error',
    when: "The upstream's 429, still after the retries or at once when its wait does not fit the budget (with `retry-after`).",
  },
  DEPLOYMENTS_BUSY: {
    code: 'deployments_busy',
    status: 429,
    type: 'rate_limit_error',
    when: 'Every deployment that could serve the request is at its `max_concurrent` (with `retry-after`).',
  },
  RATE_LIMIT_EXCEEDED: {
    code: 'rate_limit_exceeded',
    status: 429,
    type: 'requests',
    when: 'A virtual key or its team is at its requests-per-minute or concurrency limit (type `requests`) or its tokens-per-minute limit (type `tokens`); with `retry-after`.',
  },
  INSUFFICIENT_QUOTA: {
    code: 'insufficient_quota',
    status: 429,
    type: 'insufficient_quota',
    when: "The key's or its team's budget for the period is spent (with `x-should-retry: false`).",
  },
  REQUEST_HEADERS_TOO_LARGE: {
    code: 'request_headers_too_large',
    status: 431,
    type: 'invalid_request_error',
    when: 'The request headers are over 16 KiB; the connection is closed after the answer.',
  },
  CLIENT_CLOSED_REQUEST: {
    code: 'client_closed_request',
    status: 499,
    type: 'invalid_request_error',
    when: 'The client went away before the answer; never written, only logged and counted.',
  },
  INTERNAL_ERROR: {
    code: 'internal_error',
    status: 500,
    type: 'api_error',
    when: 'A bug in the gateway; the message is generic and the cause is logged.',
  },
  UPSTREAM_UNREACHABLE: {
    code: 'upstream_unreachable',
    status: 502,
    type: 'api_error',
    when: 'The upstream could not be reached (refused, DNS, reset before a response).',
  },
  UPSTREAM_ERROR: {
    code: 'upstream_error',
    status: 502,
    type: 'api_error',
    when: "The upstream failed: a 5xx other than 503, a body that is not what it should be, a broken stream, or it rejected the gateway's key.",
  },
  UPSTREAM_UNAVAILABLE: {
    code: 'upstream_unavailable',
    status: 503,
    type: 'api_error',
    when: "The upstream's 503, still after the retries (with `retry-after` when it sent one).",
  },
  SERVER_SHUTTING_DOWN: {
    code: 'server_shutting_down',
    status: 503,
    type: 'api_error',
    when: 'The request arrived while the gateway drains for shutdown (with `Connection: close`).',
  },
  STORE_UNAVAILABLE: {
    code: 'store_unavailable',
    status: 503,
    type: 'api_error',
    when: 'The database or Redis is down: a key not seen before, a limit or the admin API cannot be checked.',
  },
  UPSTREAM_TIMEOUT: {
    code: 'upstream_timeout',
    status: 504,
    type: 'api_error',
    when: 'The upstream timed out connecting, before its first byte, or between two chunks.',
  },
} as const satisfies Record<string, ErrorCodeEntry>;

/** One of the catalogue's entries, with its literal code, status and type. */
export type CatalogueEntry = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

/** Every code the gateway can answer with. */
export type ErrorCode = CatalogueEntry['code'];

/** The codes answered with `status` (and `type`): those a class of that status may carry. */
export type ErrorCodeWith<Status extends number, Type extends ErrorType = ErrorType> = Extract<
  CatalogueEntry,
  { readonly status: Status; readonly type: Type }
>['code'];
