import { describe, expect, it } from 'vitest';
import type { RetryPolicy } from '../config/gateway-config.js';
import {
  AuthenticationError,
  ClientClosedError,
  GatewayError,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  UpstreamCredentialsError,
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamTimeoutError,
  UpstreamUnavailableError,
  UpstreamUnreachableError,
  ValidationError,
} from '../errors/gateway-error.js';
import {
  backoffMs,
  classifyFailure,
  countsAgainstDeployment,
  createRetryBudget,
  type FailureAction,
  retryDelayMs,
} from './retry-policy.js';

const policy: RetryPolicy = {
  maxAttempts: 3,
  initialBackoffMs: 100,
  maxBackoffMs: 1_000,
  maxRetryAfterMs: 5_000,
  budgetMs: 1_000,
};

const upstreamRows: [string, GatewayError, FailureAction][] = [
  ['connection refused (not_sent)', new UpstreamUnreachableError('p'), 'retry'],
  ['connect timeout (not_sent)', new UpstreamTimeoutError('p', 'connect'), 'retry'],
  ['upstream 429', new UpstreamRateLimitedError('p', 1_000), 'retry'],
  ['upstream 503', new UpstreamUnavailableError('p', undefined), 'retry'],
  [
    'upstream 502 (a proxy before the model)',
    new UpstreamError('502', undefined, 'failed', 502),
    'retry',
  ],
  [
    'upstream 504 (a proxy before the model)',
    new UpstreamError('504', undefined, 'failed', 504),
    'retry',
  ],
  ['credentials rejected', new UpstreamCredentialsError('p'), 'fallback'],
  ['reset after sending (failed)', new UpstreamUnreachableError('p', undefined, true), 'fallback'],
  ['upstream 500', new UpstreamError('500', undefined, 'failed', 500), 'fallback'],
  ['upstream 501', new UpstreamError('501', undefined, 'failed', 501), 'fallback'],
  ['upstream 520', new UpstreamError('520', undefined, 'failed', 520), 'fallback'],
  ['upstream redirect', new UpstreamError('302', undefined, 'failed', 302), 'fallback'],
  [
    "first-byte timeout: our 504, not the upstream's",
    new UpstreamTimeoutError('p', 'first_byte'),
    'fallback',
  ],
  ['first chunk an error (broken)', new UpstreamError('mid-stream'), 'fallback'],
  ['idle timeout after the headers (broken)', new UpstreamTimeoutError('p', 'idle'), 'fallback'],
];

const requestRows: [string, GatewayError][] = [
  ['upstream 400', new InvalidRequestError('bad', 'upstream_bad_request')],
  ['upstream 404', new NotFoundError('no such model', 'model_not_found', 'model')],
  [
    'request-caused code even if marked upstream',
    new GatewayError('bad', {
      status: 400,
      type: 'invalid_request_error',
      code: 'upstream_bad_request',
      upstreamFailure: 'refused',
    }),
  ],
  ['validation', new ValidationError('bad', 'messages')],
  ['client auth', new AuthenticationError()],
  ['client closed', new ClientClosedError()],
  ['our bug', new InternalError()],
];

describe('classifyFailure', () => {
  it.each(upstreamRows)('%s before any byte → %s', (_name, error, action) => {
    expect(classifyFailure(error, false)).toBe(action);
  });

  it.each(upstreamRows)('%s after a byte reached the client → final', (_name, error) => {
    expect(classifyFailure(error, true)).toBe('final');
  });

  it.each(requestRows)('%s → final', (_name, error) => {
    expect(classifyFailure(error, false)).toBe('final');
    expect(classifyFailure(error, true)).toBe('final');
  });
});

describe('a provider without the endpoint (no embeddings)', () => {
  const missing = new NotFoundError('no embeddings', 'embeddings_not_supported', 'model');

  it('moves on to the next deployment before any byte, and never counts against this one', () => {
    expect(classifyFailure(missing, false)).toBe('fallback');
    expect(classifyFailure(missing, true)).toBe('final');
    expect(countsAgainstDeployment(missing)).toBe(false);
  });
});

describe('countsAgainstDeployment', () => {
  it.each(upstreamRows)('%s counts', (_name, error) => {
    expect(countsAgainstDeployment(error)).toBe(true);
  });

  it.each(requestRows)('%s does not count', (_name, error) => {
    expect(countsAgainstDeployment(error)).toBe(false);
  });
});

describe('backoffMs (exponential, equal jitter)', () => {
  it.each([
    [1, 50],
    [2, 100],
    [3, 200],
    [4, 400],
    [5, 500],
    [60, 500],
  ])('retry %i with random 0 waits the floor %i ms', (attempt, expected) => {
    expect(backoffMs(attempt, policy, () => 0)).toBe(expected);
  });

  it.each([
    [1, 100],
    [4, 800],
    [5, 1_000],
  ])('retry %i with random → 1 waits the ceiling %i ms', (attempt, expected) => {
    expect(backoffMs(attempt, policy, () => 0.99999)).toBe(expected);
  });

  it('jitters uniformly between half and the whole ceiling', () => {
    expect(backoffMs(1, policy, () => 0.5)).toBe(75);
    expect(backoffMs(3, policy, () => 0.25)).toBe(250);
  });

  it('keeps a bad random source and a bad attempt number within bounds', () => {
    expect(backoffMs(1, policy, () => 2)).toBe(100);
    expect(backoffMs(1, policy, () => -1)).toBe(50);
    expect(backoffMs(1, policy, () => Number.NaN)).toBe(50);
    expect(backoffMs(0, policy, () => 0)).toBe(50);
    expect(backoffMs(Number.NaN, policy, () => 0)).toBe(50);
    expect(backoffMs(5_000, policy, () => 0.99999)).toBe(1_000);
    expect(backoffMs(3, { ...policy, initialBackoffMs: 0 }, () => 0.5)).toBe(0);
  });
});

describe('retryDelayMs', () => {
  const limited = (retryAfterMs: number | undefined) =>
    new UpstreamRateLimitedError('p', retryAfterMs);

  it.each([
    [0, 0],
    [2_000, 2_000],
    [1_234, 1_234],
    [5_000, 5_000],
  ])('honours a requested wait of %i ms within the cap, to the millisecond', (wait, expected) => {
    expect(retryDelayMs(limited(wait), 1, policy, () => 0)).toBe(expected);
  });

  it('honours a 503 the same way', () => {
    expect(retryDelayMs(new UpstreamUnavailableError('p', 700), 1, policy, () => 0)).toBe(700);
  });

  it('does not wait (undefined) when the upstream asks for longer than the cap', () => {
    expect(retryDelayMs(limited(6_000), 1, policy, () => 0)).toBeUndefined();
    expect(retryDelayMs(limited(5_001), 1, policy, () => 0)).toBeUndefined();
  });

  it('falls back to the backoff without a requested wait', () => {
    expect(retryDelayMs(limited(undefined), 2, policy, () => 0)).toBe(100);
    expect(retryDelayMs(new UpstreamUnavailableError('p', undefined), 3, policy, () => 0)).toBe(
      200,
    );
    expect(retryDelayMs(new UpstreamUnreachableError('p'), 1, policy, () => 0.5)).toBe(75);
  });
});

describe('createRetryBudget', () => {
  it('counts down from budgetMs with the injected clock and allows only waits that leave time', () => {
    let time = 5_000;
    const budget = createRetryBudget(policy, () => time);
    expect(budget.remainingMs()).toBe(1_000);
    expect(budget.allows(0)).toBe(true);
    expect(budget.allows(999)).toBe(true);
    expect(budget.allows(1_000)).toBe(false);
    time += 400;
    expect(budget.remainingMs()).toBe(600);
    expect(budget.allows(599)).toBe(true);
    expect(budget.allows(600)).toBe(false);
    time += 700;
    expect(budget.remainingMs()).toBe(0);
    expect(budget.allows(0)).toBe(false);
  });

  it('rejects negative and NaN delays', () => {
    const budget = createRetryBudget(policy, () => 0);
    expect(budget.allows(-1)).toBe(false);
    expect(budget.allows(Number.NaN)).toBe(false);
  });
});
