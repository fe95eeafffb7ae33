import type { RetryPolicy } from '../config/gateway-config.js';
import {
  asGatewayError,
  DeploymentsBusyError,
  type GatewayError,
} from '../errors/gateway-error.js';
import { sleepUnlessAborted } from '../providers/call-signal.js';
import type { CallContext, ChatProvider } from '../providers/provider.js';
import { type AttemptLog, createAttemptLog } from './attempt-log.js';
import type { Candidate, DeploymentPool } from './deployment-pool.js';
import { resolveModel } from './resolve-model.js';
import {
  classifyFailure,
  countsAgainstDeployment,
  createRetryBudget,
  retryDelayMs,
} from './retry-policy.js';

/** The deployment that served a request: `provider/model`, sent as a response header. */
export interface Served<Value> {
  readonly value: Value;
  readonly provider: string;
  readonly deployment: string;
  /** Attempts made, this one included (retries and fallbacks add to it). */
  readonly attempts: number;
  /** The failed attempts before this one (`a/x (upstream_timeout)`), if any. */
  readonly tried: string | undefined;
  /** Call when the response is over (frees the deployment's concurrency slot). */
  readonly done: () => void;
}

export interface ModelRouterOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
  readonly pool: DeploymentPool;
  readonly retry: RetryPolicy;
  readonly now: () => number;
  readonly random: () => number;
  /** Told of every attempt (for metrics): the provider and `ok` or the error code. */
  readonly onAttempt?: (provider: string, outcome: string) => void;
}

/** One attempt against one provider, for the given upstream model name. */
export type Attempt<Value> = (provider: ChatProvider, model: string) => Promise<Value>;

export interface ModelRouter {
  /**
   * Runs `attempt` for a model name on `/v1/...`: a public model or alias (its deployments, with
   * retries, fallbacks and cooldown), `provider/model`, or else the default provider. Resolves
   * with the first success; rejects with the last failure when every safe option is spent.
   */
  run<Value>(model: string, ctx: CallContext, attempt: Attempt<Value>): Promise<Served<Value>>;
  /**
   * Runs `attempt` on `provider` alone with the model as sent (`/{provider}/v1/...`): the same
   * retries, backoff and budget as {@link run}, never another provider. A deployment configured
   * as `provider/model` shares its caps and breaker with routed traffic; while it cools down the
   * request still gets one attempt (the client asked for this provider and has no other), with
   * no retry, and its outcome counts like any other.
   */
  runPinned<Value>(
    provider: ChatProvider,
    model: string,
    ctx: CallContext,
    attempt: Attempt<Value>,
  ): Promise<Served<Value>>;
}

interface Target {
  readonly provider: ChatProvider;
  readonly model: string;
  /** Pool bookkeeping; absent for a provider and model that no public model is served by. */
  readonly candidate?: Candidate;
}

/** The executor of routing: attempts in order, retries and fallbacks only when they are safe. */
export function createModelRouter(options: ModelRouterOptions): ModelRouter {
  const { pool, retry } = options;

  /** One provider and model: a configured deployment's candidate when there is one. */
  const targetOf = (provider: ChatProvider, model: string): Target => {
    const candidate = pool.deployment(provider.id, model);
    return candidate === undefined ? { provider, model } : { provider, model, candidate };
  };

  const targetsFor = (model: string): Target[] => {
    if (pool.resolve(model) === undefined) {
      const target = resolveModel(model, options.providers, options.defaultProvider);
      return [targetOf(target.provider, target.model)];
    }
    return pool.plan(model).flatMap((candidate) => {
      const provider = options.providers.get(candidate.deployment.provider);
      return provider === undefined
        ? []
        : [{ provider, model: candidate.deployment.model, candidate }];
    });
  };

  /** Tries `targets` in order; the one loop every route's retries and fallbacks go through. */
  const execute = async <Value>(
    targets: readonly Target[],
    ctx: CallContext,
    attempt: Attempt<Value>,
  ): Promise<Served<Value>> => {
    const budget = createRetryBudget(retry, options.now);
    // Made on the first failure: a request served at once needs none.
    let tried: AttemptLog | undefined;
    let lastError: GatewayError | undefined;
    let attempts = 0;
    for (const target of targets) {
      const deployment = `${target.provider.id}/${target.model}`;
      for (let attemptNumber = 1; attemptNumber <= retry.maxAttempts; attemptNumber++) {
        const { candidate } = target;
        if (candidate !== undefined && !pool.acquire(candidate)) break;
        const started = options.now();
        attempts += 1;
        let released = false;
        const release = () => {
          if (!released && candidate !== undefined) pool.release(candidate);
          released = true;
        };
        try {
          const value = await attempt(target.provider, target.model);
          if (candidate !== undefined) pool.recordSuccess(candidate);
          options.onAttempt?.(target.provider.id, 'ok');
          // A plain success is in the access line (deployment, attempts); debug has them all.
          ctx.logger.debug(
            {
              deployment,
              attempt: attemptNumber,
              outcome: 'ok',
              latencyMs: options.now() - started,
            },
            'upstream attempt',
          );
          return {
            value,
            provider: target.provider.id,
            deployment,
            attempts,
            tried: tried?.failures(),
            done: release,
          };
        } catch (thrown) {
          release();
          const error = asGatewayError(thrown);
          lastError = error;
          tried ??= createAttemptLog();
          tried.record(deployment, error.code);
          options.onAttempt?.(target.provider.id, error.code);
          ctx.logger.warn(
            {
              deployment,
              attempt: attemptNumber,
              outcome: error.code,
              latencyMs: options.now() - started,
            },
            'upstream attempt failed',
          );
          if (candidate !== undefined && countsAgainstDeployment(error)) {
            pool.recordFailure(candidate);
          }
          const action = classifyFailure(error, false);
          if (action === 'final' || ctx.signal.aborted) throw tried.annotate(error);
          if (action === 'fallback') break;
          // Retry the same deployment, unless that was its last attempt, its breaker is open or
          // time is up: then the next one (or the client) hears at once, without a useless wait.
          // A wait the upstream asked for that does not fit ends this deployment's turn too.
          if (attemptNumber >= retry.maxAttempts) break;
          if (candidate !== undefined && pool.state(candidate) !== 'healthy') break;
          const delay = retryDelayMs(error, attemptNumber, retry, options.random);
          if (delay === undefined || !budget.allows(delay)) break;
          await sleepUnlessAborted(delay, ctx.signal);
          if (ctx.signal.aborted) throw tried.annotate(error);
        }
      }
      if (budget.remainingMs() <= 0) break;
    }
    // Nothing could be tried (no failure, so no log either): every deployment was at its cap.
    if (lastError === undefined || tried === undefined) {
      throw new DeploymentsBusyError(
        targets.map((target) => `${target.provider.id}/${target.model}`),
      );
    }
    throw tried.annotate(lastError);
  };

  return {
    run: (model, ctx, attempt) => execute(targetsFor(model), ctx, attempt),
    runPinned: (provider, model, ctx, attempt) =>
      execute([targetOf(provider, model)], ctx, attempt),
  };
}
