import { describe, expect, it } from 'vitest';
import { createFakeProvider } from '../../test/helpers/fake-provider.js';
import { DEFAULT_COOLDOWN_POLICY, type RetryPolicy } from '../config/gateway-config.js';
import {
  GatewayError,
  UpstreamUnavailableError,
  UpstreamUnreachableError,
} from '../errors/gateway-error.js';
import { createDeploymentPool } from './deployment-pool.js';
import { createModelRouter } from './model-router.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };
const retry: RetryPolicy = {
  maxAttempts: 3,
  initialBackoffMs: 50,
  maxBackoffMs: 50,
  maxRetryAfterMs: 1_000,
  budgetMs: 10_000,
};

function setup(maxConcurrent?: number) {
  const a = createFakeProvider('a');
  const b = createFakeProvider('b');
  const pool = createDeploymentPool({
    models: [
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
  const router = createModelRouter({
    providers: new Map([
      ['a', a],
      ['b', b],
    ]),
    defaultProvider: a,
    pool,
    retry,
    now: Date.now,
    random: () => 0,
  });
  return { router, a, b };
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
    held.done();
    expect((await router.run('m', ctx(), async () => 'third')).value).toBe('third');
  });

  it('answers at once after the last attempt, without waiting out its retry-after', async () => {
    const { router } = setup();
    let calls = 0;
    const started = performance.now();
    // `b/z` is no configured deployment: no breaker opens to cut the attempts short.
    const error = await router
      .run('b/z', ctx(), async () => {
        calls += 1;
        throw new UpstreamUnavailableError('b', 300);
      })
      .catch((thrown: unknown) => thrown);
    // Two honoured waits of 300 ms between three attempts, none after the last.
    expect(performance.now() - started).toBeLessThan(850);
    expect(calls).toBe(3);
    expect(error).toMatchObject({ status: 503, retryAfter: '1' });
  });
});
