import type { RetryPolicy } from '../config/gateway-config.js';
import { ERROR_CODES } from '../errors/error-codes.js';
import type { GatewayError } from '../errors/gateway-error.js';

/**
 * What the executor does after a failed attempt:
 * - `retry`: the same deployment again (within `maxAttempts` and the budget), then the next one;
 * - `fallback`: the next candidate at once, never the same deployment again;
 * - `final`: stop and report this error to the client.
 */
export type FailureAction = 'retry' | 'fallback' | 'final';

/**
 * Upstream answers that the request itself caused: every deployment would answer the same, so
 * trying another one only multiplies the load, and the deployment is not to blame.
 */
const REQUEST_CAUSED_CODES: ReadonlySet<string> = new Set([
  ERROR_CODES.UPSTREAM_BAD_REQUEST.code,
  ERROR_CODES.MODEL_NOT_FOUND.code,
]);

/**
 * Upstream statuses retried on the same deployment. 429 and 503 say "not now" without doing the
 * work. 502 and 504 come from a proxy or load balancer in front of the model that could not get
 * an answer from it: transient by nature, and retried by the vendors' own SDKs. A 504 can hide a
 * backend that kept generating; retrying it anyway is the trade every major SDK makes, and it is
 * bounded by `maxAttempts` and the budget. A 500 or any other 5xx is the model's own failure
 * after it may have worked on the request: never the same deployment again.
 */
const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/**
 * The single place the safety rules for another attempt live. `clientGotBytes` is true once any
 * byte of the response (headers included) went to the client.
 */
export function classifyFailure(error: GatewayError, clientGotBytes: boolean): FailureAction {
  // Something already reached the client: a second attempt would splice two answers into one
  // response and bill twice. The stream ends with an in-stream error instead.
  if (clientGotBytes) return 'final';
  // This deployment's vendor has no such endpoint (no upstream was called): another may have it.
  if (error.code === ERROR_CODES.EMBEDDINGS_NOT_SUPPORTED.code) return 'fallback';
  const failure = error.upstreamFailure;
  // Not an upstream failure: validation, the client's auth, an unknown model, the client going
  // away, or our own bug. No other deployment would answer differently.
  if (failure === undefined) return 'final';
  // The upstream rejected the request itself (4xx): it would fail the same way everywhere.
  if (REQUEST_CAUSED_CODES.has(error.code)) return 'final';
  const status = error.upstreamStatus;
  if (status !== undefined && RETRIED_STATUSES.has(status)) return 'retry';
  switch (failure) {
    // The upstream never saw the request (connection refused, DNS, connect timeout): nothing can
    // have been generated, so the same deployment may be tried again.
    case 'not_sent':
      return 'retry';
    // It answered without doing the work, but not with a status above: rejected credentials,
    // which the same key meets again at once. Move on without a retry.
    case 'refused':
      return 'fallback';
    // It may have worked on the request (a 500 or another 5xx, a reset after sending, no headers
    // in time): another attempt on the same deployment could bill twice for a generation already
    // under way, but the client has nothing yet, so the next deployment may still answer.
    case 'failed':
      return 'fallback';
    // Its response began and then broke (first stream chunk was an error, invalid body, idle
    // timeout), before anything reached the client: the same reasoning as `failed`.
    case 'broken':
      return 'fallback';
  }
}

/**
 * Whether a failure counts toward the deployment's cooldown: every upstream failure does;
 * anything the request caused (an upstream 4xx) or the client caused (closing the request), and
 * our own bugs, do not, so a bad request never cools a healthy deployment down.
 */
export function countsAgainstDeployment(error: GatewayError): boolean {
  return error.upstreamFailure !== undefined && !REQUEST_CAUSED_CODES.has(error.code);
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `initialBackoffMs`, doubling
 * each time, capped at `maxBackoffMs`, with *equal* jitter: a uniform value in
 * [ceiling / 2, ceiling]. Equal rather than full jitter because retries here are few (default
 * one) and aimed at an upstream that just said 429/503: full jitter could retry it at once.
 * `random` returns [0, 1) like Math.random; it is injected so tests are exact.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const retry = Number.isFinite(attempt) ? Math.max(1, Math.floor(attempt)) : 1;
  // Capping the exponent keeps 2 ** n finite; the cap below applies long before it matters.
  const exponential = policy.initialBackoffMs * 2 ** Math.min(retry - 1, 30);
  const ceiling = Math.max(0, Math.min(policy.maxBackoffMs, exponential));
  const half = ceiling / 2;
  return Math.round(half + unit(random()) * half);
}

/**
 * How long to wait before retrying after `error`: the upstream's requested wait (`retry-after` or
 * `retry-after-ms`, parsed once where the error is made, kept to the millisecond) when it is at
 * most `maxRetryAfterMs`; `undefined` when it asks for longer ("don't wait: give the client the
 * error now, or move on to the next candidate"); otherwise {@link backoffMs}. The executor also
 * checks the wait against the request's budget, with the same outcome when it does not fit.
 */
export function retryDelayMs(
  error: GatewayError,
  attempt: number,
  policy: RetryPolicy,
  random: () => number,
): number | undefined {
  const requested = error.retryAfterMs;
  if (requested === undefined) return backoffMs(attempt, policy, random);
  return requested <= policy.maxRetryAfterMs ? requested : undefined;
}

/** The total time one request may spend on attempts, waits and fallbacks. */
export interface RetryBudget {
  /** Milliseconds left, never negative. */
  remainingMs(): number;
  /**
   * Whether waiting `delayMs` still leaves time for an attempt (strictly less than what is
   * left). `allows(0)` is false once the budget is spent: check it before every further attempt.
   */
  allows(delayMs: number): boolean;
}

/** Starts a request's budget of `policy.budgetMs`, measured with the injected clock. */
export function createRetryBudget(policy: RetryPolicy, now: () => number): RetryBudget {
  const deadline = now() + policy.budgetMs;
  const remainingMs = (): number => Math.max(0, deadline - now());
  return {
    remainingMs,
    allows: (delayMs) => delayMs >= 0 && delayMs < remainingMs(),
  };
}

/** A random source's value clamped to [0, 1], so a bad fake cannot leave the bounds. */
function unit(value: number): number {
  if (!(value > 0)) return 0;
  return Math.min(value, 1);
}
