import { describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../test/helpers/fake-provider.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  type ModelConfig,
  type RetryPolicy,
} from '../config/gateway-config.js';
import {
  GatewayError,
  InvalidRequestError,
  UpstreamError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamUnreachableError,
} from '../errors/gateway-error.js';
import { createDeploymentPool } from './deployment-pool.js';
import { type Attempt, createModelRouter } from './model-router.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const retry: RetryPolicy = {
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 50,
  maxRetryAfterMs: 1_000,
  budgetMs: 10_000,
};

function setup(maxConcurrent?: number, models?: ModelConfig[], policy: RetryPolicy = retry) {
  const a = createFakeProvider('a');
  const b = createFakeProvider('b');
  const pool = createDeploymentPool({
    models: models ?? [
      {
        name: 'm',
        aliases: [],
        fallbacks: [],
        deployments: [
          { provider: 'a', model: 'x', weight: 1, ...(maxConcurrent ? { maxConcurrent } : {}) },
        ],
      },
    ],
    cooldown: DEFAULT_COOLDOWN_POLICY,
    now: Date.now,
  });
  const outcomes: string[] = [];
  const router = createModelRouter({
    providers: new Map([
      ['a', a],
      ['b', b],
    ]),
    defaultProvider: a,
    pool,
    retry: policy,
    now: Date.now,
    random: () => 0,
    onAttempt: (provider, outcome) => outcomes.push(`${provider}:${outcome}`),
  });
  return { router, pool, a, b, outcomes };
}

/** An attempt that throws the next error of `errors` (then succeeds), recording where it ran. */
function scripted(errors: GatewayError[], seen: string[]): Attempt<string> {
  return async (provider, model) => {
    seen.push(`${provider.id}/${model}`);
    const error = errors.shift();
    if (error !== undefined) throw error;
    return 'ok';
  };
}

function ctx(signal = new AbortController().signal) {
  return { signal, requestId: 'r', logger };
}

describe('createModelRouter', () => {
  it('sends unknown names to provider/model or the default provider, unchanged', async () => {
    const { router } = setup();
    const seen: string[] = [];
    const attempt = async (provider: { id: string }, model: string) => {
      seen.push(`${provider.id}:${model}`);
      return 1;
    };
    expect((await router.run('b/llama', ctx(), attempt)).deployment).toBe('b/llama');
    expect((await router.run('other', ctx(), attempt)).deployment).toBe('a/other');
    expect(seen).toEqual(['b:llama', 'a:other']);
  });

  it('retries what was never sent, up to maxAttempts, then reports the last error', async () => {
    const { router } = setup();
    let calls = 0;
    const error = await router
      .run('m', ctx(), async () => {
        calls += 1;
        throw new UpstreamUnreachableError('a');
      })
      .catch((thrown: unknown) => thrown);
    expect(calls).toBe(3);
    expect(error).toMatchObject({ code: 'upstream_unreachable' });
  });

  it('stops waiting and gives up when the client leaves during a backoff', async () => {
    const { router } = setup();
    const controller = new AbortController();
    let calls = 0;
    const pending = router
      .run('m', ctx(controller.signal), async () => {
        calls += 1;
        throw new UpstreamUnreachableError('a');
      })
      .catch((thrown: unknown) => thrown);
    setTimeout(() => controller.abort(), 10);
    expect(await pending).toBeInstanceOf(GatewayError);
    expect(calls).toBe(1);
  });

  it('answers 429 deployments_busy when every deployment is at its cap, and frees the slot on done', async () => {
    const { router } = setup(1);
    const held = await router.run('m', ctx(), async () => 'first');
    const busy = await router
      .run('m', ctx(), async () => 'second')
      .catch((thrown: unknown) => thrown);
    expect(busy).toMatchObject({ status: 429, code: 'deployments_busy' });
    // So does `a/x` on the routed path: the same deployment, whichever way it is named.
    const named = await router.run('a/x', ctx(), async () => 'named').catch((thrown) => thrown);
    expect(named).toMatchObject({ status: 429, code: 'deployments_busy' });
    held.done();
    expect((await router.run('m', ctx(), async () => 'third')).value).toBe('third');
  });

  it('names each deployment tried and why in the final error, keeping its status and retry-after', async () => {
    const models = [
      {
        name: 'm',
        aliases: [],
        fallbacks: [],
        deployments: [
          { provider: 'a', model: 'x', weight: 2 },
          { provider: 'b', model: 'y', weight: 1 },
        ],
      },
    ];
    const { router } = setup(undefined, models);
    const seen: string[] = [];
    const errors = [
      new UpstreamUnreachableError('a'),
      new UpstreamUnreachableError('a'),
      new UpstreamUnreachableError('a'),
      // Asks for longer than maxRetryAfterMs: answered at once, no second attempt on b.
      new UpstreamRateLimitedError('b', 30_000),
    ];
    const error = await router.run('m', ctx(), scripted(errors, seen)).catch((thrown) => thrown);
    expect(seen).toEqual(['a/x', 'a/x', 'a/x', 'b/y']);
    expect(error).toMatchObject({
      status: 429,
      type: 'rate_limit_error',
      code: 'upstream_rate_limited',
      retryAfter: '30',
      message:
        'The b upstream is rate limiting requests; retry later. ' +
        'Tried: a/x (upstream_unreachable ×3), b/y (upstream_rate_limited).',
    });
  });

  it('lists every outcome of a deployment, and leaves a single failure as it was', async () => {
    const { router } = setup();
    const twice = await router
      .run(
        'm',
        ctx(),
        scripted(
          [
            new UpstreamUnavailableError('a', 0),
            new InvalidRequestError('bad', 'upstream_bad_request'),
          ],
          [],
        ),
      )
      .catch((thrown) => thrown);
    expect(twice).toMatchObject({
      status: 400,
      message: 'bad Tried: a/x (upstream_unavailable, upstream_bad_request).',
    });
    const once = await router
      .run('m', ctx(), scripted([new InvalidRequestError('bad', 'upstream_bad_request')], []))
      .catch((thrown) => thrown);
    expect(once).toMatchObject({ status: 400, message: 'bad' });
  });

  it('answers at once after the last attempt, without waiting out its retry-after', async () => {
    const { router } = setup();
    const seen: string[] = [];
    const errors = [1, 2, 3].map(() => new UpstreamUnavailableError('b', 300));
    const started = performance.now();
    // `b/z` is no configured deployment: no breaker opens to cut the attempts short.
    const error = await router.run('b/z', ctx(), scripted(errors, seen)).catch((thrown) => thrown);
    // Two honoured waits of 300 ms between three attempts, none after the last.
    expect(performance.now() - started).toBeLessThan(850);
    expect(seen).toEqual(['b/z', 'b/z', 'b/z']);
    expect(error).toMatchObject({ status: 503, retryAfter: '1' });
  });

  it('cuts a long model name in the list of deployments tried', async () => {
    const { router } = setup();
    const long = 'q'.repeat(300);
    const errors = [1, 2, 3].map(() => new UpstreamUnreachableError('b'));
    const error = await router
      .run(`b/${long}`, ctx(), scripted(errors, []))
      .catch((thrown) => thrown);
    expect((error as Error).message).toContain(
      `Tried: b/${'q'.repeat(128)}… (upstream_unreachable ×3).`,
    );
  });
});

describe('runPinned', () => {
  it('retries on the pinned provider with the model as sent, never on another', async () => {
    // `m` is served by a/x; a request pinned to b for model x must still stay on b.
    const { router, b, outcomes } = setup();
    const seen: string[] = [];
    const errors = [new UpstreamUnavailableError('b', 0), new UpstreamUnavailableError('b', 0)];
    const served = await router.runPinned(b, 'x', ctx(), scripted(errors, seen));
    expect(served).toMatchObject({ value: 'ok', provider: 'b', deployment: 'b/x', attempts: 3 });
    expect(seen).toEqual(['b/x', 'b/x', 'b/x']);
    // Every attempt is told to the metrics, as on routed requests.
    expect(outcomes).toEqual(['b:upstream_unavailable', 'b:upstream_unavailable', 'b:ok']);
  });

  it('reports the last failure of the pinned provider, naming its attempts', async () => {
    const { router, a } = setup();
    const seen: string[] = [];
    const errors = [
      new UpstreamError('502', undefined, 'failed', 502),
      new UpstreamError('504', undefined, 'failed', 504),
      new UpstreamUnavailableError('a', 0),
    ];
    const error = await router
      .runPinned(a, 'm', ctx(), scripted(errors, seen))
      .catch((thrown) => thrown);
    expect(seen).toEqual(['a/m', 'a/m', 'a/m']);
    expect(error).toMatchObject({
      status: 503,
      code: 'upstream_unavailable',
      message:
        'The a upstream is unavailable; retry later. ' +
        'Tried: a/m (upstream_error ×2, upstream_unavailable).',
    });
  });

  it('does not retry a 500, and answers a wait beyond the budget at once', async () => {
    const { router, a } = setup(undefined, undefined, {
      ...retry,
      maxRetryAfterMs: 60_000,
      budgetMs: 2_000,
    });
    const seen: string[] = [];
    const failed = await router
      .runPinned(
        a,
        'z',
        ctx(),
        scripted([new UpstreamError('500', undefined, 'failed', 500)], seen),
      )
      .catch((thrown) => thrown);
    expect(failed).toMatchObject({ code: 'upstream_error', message: '500' });
    const started = performance.now();
    const limited = await router
      .runPinned(a, 'z', ctx(), scripted([new UpstreamRateLimitedError('a', 5_000)], seen))
      .catch((thrown) => thrown);
    expect(performance.now() - started).toBeLessThan(500);
    expect(limited).toMatchObject({ status: 429, retryAfter: '5' });
    expect(seen).toEqual(['a/z', 'a/z']);
  });

  it("shares a configured deployment's concurrency cap and breaker with routed traffic", async () => {
    const { router, pool, a } = setup(1);
    const held = await router.run('m', ctx(), async () => 'routed');
    const busy = await router
      .runPinned(a, 'x', ctx(), async () => 'pinned')
      .catch((thrown) => thrown);
    expect(busy).toMatchObject({ status: 429, code: 'deployments_busy' });
    // So does `a/x` on the routed path: the same deployment, whichever way it is named.
    const named = await router.run('a/x', ctx(), async () => 'named').catch((thrown) => thrown);
    expect(named).toMatchObject({ status: 429, code: 'deployments_busy' });
    held.done();
    // Pinned failures (three, the threshold) open the breaker that routed requests go by.
    const seen: string[] = [];
    const errors = [1, 2, 3].map(() => new UpstreamError('500', undefined, 'failed', 500));
    for (let index = 0; index < 3; index++) {
      await router.runPinned(a, 'x', ctx(), scripted(errors, seen)).catch(() => undefined);
    }
    const candidate = pool.deployment('a', 'x');
    if (candidate === undefined) throw new Error('a/x is configured');
    expect(pool.state(candidate)).toBe('cooling');
    // Cooling: a pinned request still gets its one attempt (no retry), and a success closes it.
    const cooling = await router
      .runPinned(a, 'x', ctx(), scripted([new UpstreamUnreachableError('a')], seen))
      .catch((thrown) => thrown);
    expect(cooling).toMatchObject({ code: 'upstream_unreachable' });
    expect(seen).toEqual(['a/x', 'a/x', 'a/x', 'a/x']);
    expect((await router.runPinned(a, 'x', ctx(), async () => 'back')).value).toBe('back');
    expect(pool.state(candidate)).toBe('healthy');
  });
});
