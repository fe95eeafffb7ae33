import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  RequestTooLargeError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
} from '../../errors/gateway-error.js';
import { anthropicErrorBody, anthropicErrorType } from './anthropic-error-body.js';

describe('anthropicErrorBody', () => {
  it.each([
    [400, 'invalid_request_error'],
    [401, 'authentication_error'],
    [403, 'permission_error'],
    [404, 'not_found_error'],
    [408, 'invalid_request_error'],
    [413, 'request_too_large'],
    [422, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
    [502, 'api_error'],
    [503, 'overloaded_error'],
    [504, 'timeout_error'],
    [529, 'overloaded_error'],
  ])('maps status %i to %s', (status, type) => {
    expect(anthropicErrorType(status)).toBe(type);
  });

  it("writes Anthropic's envelope with the gateway's message", () => {
    expect(anthropicErrorBody(new AuthenticationError())).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'Invalid or missing API key.' },
    });
    expect(anthropicErrorBody(new RequestTooLargeError(10)).error.type).toBe('request_too_large');
    expect(anthropicErrorBody(new UpstreamUnavailableError('ollama', 1_000)).error.type).toBe(
      'overloaded_error',
    );
    expect(anthropicErrorBody(new UpstreamTimeoutError('ollama', 'idle')).error.type).toBe(
      'timeout_error',
    );
  });
});
