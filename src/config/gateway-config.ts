/**
 * The typed form of the optional config file (GATEWAY_CONFIG, YAML or JSON): named providers,
 * public model names with their deployments, and routing policy. Without a file the environment
 * alone describes the providers (see settings.ts) and these types are built from it.
 */

import type { ProviderConfig } from '../providers/registry.js';

// A provider's shape lives with the list of kinds (providers/registry.ts), so that config/
// imports providers/ and never the reverse; re-exported as part of the config's shape.
export type { ProviderConfig } from '../providers/registry.js';

/** One place a public model is served: a provider and the model name it knows. */
export interface DeploymentConfig {
  readonly provider: string;
  readonly model: string;
  /** Share of traffic among the model's deployments (weighted round-robin). Default 1. */
  readonly weight: number;
  /** Most requests in flight on this deployment at once; further ones go elsewhere. */
  readonly maxConcurrent?: number;
}

/** A public model name clients send, with aliases, deployments and fallbacks. */
export interface ModelConfig {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly deployments: readonly DeploymentConfig[];
  /** Other public model names tried, in order, when every deployment failed safely. */
  readonly fallbacks: readonly string[];
}

/** How the executor retries, on routed and pinned routes alike (`routing/retry-policy.ts`). */
export interface RetryPolicy {
  /** Attempts per deployment, the first included (a pinned route has one deployment). */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /**
   * Longest `retry-after` honoured. A longer one, or one that does not fit the budget, is not
   * waited for: the next deployment is tried, or the client gets the error and its retry-after.
   */
  readonly maxRetryAfterMs: number;
  /** Total time for all attempts, waits and fallbacks of one request. */
  readonly budgetMs: number;
}

export interface CooldownPolicy {
  /** Consecutive failures that put a deployment in cooldown. */
  readonly failureThreshold: number;
  /** How long it is skipped before one probe request is let through. */
  readonly cooldownMs: number;
}

/** What a model's tokens cost, in USD per million (the `prices:` section). */
export interface ModelPrice {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

export interface GatewayConfig {
  readonly providers: readonly ProviderConfig[];
  readonly models: readonly ModelConfig[];
  /** By served model name or `provider/model`; a model without one costs 0. */
  readonly prices: ReadonlyMap<string, ModelPrice>;
  /** Serves names that are neither a public model, an alias nor `provider/model`. */
  readonly defaultProvider: string;
  readonly retry: RetryPolicy;
  readonly cooldown: CooldownPolicy;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 2,
  initialBackoffMs: 200,
  maxBackoffMs: 2_000,
  maxRetryAfterMs: 5_000,
  budgetMs: 30_000,
});

export const DEFAULT_COOLDOWN_POLICY: CooldownPolicy = Object.freeze({
  failureThreshold: 3,
  cooldownMs: 30_000,
});
