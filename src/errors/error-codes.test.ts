import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './error-codes.js';
import {
  AuthenticationError,
  ClientClosedError,
  DeploymentsBusyError,
  ForbiddenError,
  type GatewayError,
  HeadersTooLargeError,
  InternalError,
  InvalidJsonError,
  InvalidRequestError,
  NotFoundError,
  RequestTimeoutError,
  RequestTooLargeError,
  ShuttingDownError,
  UpstreamCredentialsError,
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  UpstreamUnreachableError,
  ValidationError,
} from './gateway-error.js';

const entries = Object.entries(ERROR_CODES);

describe('the error code catalogue', () => {
  it.each(entries)('%s is named after its code and says when it is used', (name, entry) => {
    expect(name).toBe(entry.code.toUpperCase());
    expect(entry.when).toMatch(/^[A-Z`'].+\.$/);
  });

  it('has each code once', () => {
    const codes = entries.map(([, entry]) => entry.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it.each<[string, GatewayError]>([
    ['InvalidRequestError', new InvalidRequestError('x')],
    ['InvalidRequestError (a code)', new InvalidRequestError('x', 'json_too_deep')],
    ['InvalidJsonError', new InvalidJsonError()],
    ['ValidationError', new ValidationError('x', 'model')],
    ['AuthenticationError', new AuthenticationError()],
    ['ForbiddenError', new ForbiddenError('x', 'management_disabled')],
    ['NotFoundError', new NotFoundError('x', 'model_not_found', 'model')],
    ['RequestTooLargeError', new RequestTooLargeError(1)],
    ['RequestTimeoutError', new RequestTimeoutError()],
    ['HeadersTooLargeError', new HeadersTooLargeError()],
    ['ShuttingDownError', new ShuttingDownError()],
    ['UpstreamRateLimitedError', new UpstreamRateLimitedError('p', 1_000)],
    ['UpstreamUnavailableError', new UpstreamUnavailableError('p', undefined)],
    ['DeploymentsBusyError', new DeploymentsBusyError(['p/m'])],
    ['UpstreamUnreachableError', new UpstreamUnreachableError('p')],
    ['UpstreamError', new UpstreamError('x')],
    ['UpstreamCredentialsError', new UpstreamCredentialsError('p')],
    ['UpstreamTimeoutError', new UpstreamTimeoutError('p', 'idle')],
    ['ClientClosedError', new ClientClosedError()],
    ['InternalError', new InternalError()],
  ])('%s answers with the status and type of its code', (_name, error) => {
    const entry = entries.find(([, candidate]) => candidate.code === error.code)?.[1];
    expect(entry).toBeDefined();
    expect({ status: error.status, type: error.type }).toEqual({
      status: entry?.status,
      type: entry?.type,
    });
  });
});

describe('DeploymentsBusyError', () => {
  it('names the one deployment of a pinned route, and every deployment of a routed model', () => {
    expect(new DeploymentsBusyError(['ollama/llama3']).message).toBe(
      'The deployment ollama/llama3 is at its concurrency limit; retry shortly.',
    );
    expect(new DeploymentsBusyError(['ollama/llama3', 'cerebras/llama-3.3']).message).toBe(
      'Every deployment of this model (ollama/llama3, cerebras/llama-3.3) is at its concurrency limit; retry shortly.',
    );
  });
});
