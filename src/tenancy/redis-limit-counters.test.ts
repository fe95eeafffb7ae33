import type { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisUrlOrSkip, useRedis } from '../../test/helpers/real-services.js';
import { createRedisLimitCounters } from './redis-limit-counters.js';

const T0 = 1_800_000_000_000;
const redisUrl = redisUrlOrSkip();

describe.skipIf(redisUrl === null)('redis limit counters: what Redis holds', () => {
  const { prefix, connections } = useRedis(redisUrl ?? '');
  // Made by useRedis before the first test.
  let redis: Redis;
  beforeAll(() => {
    redis = connections[0] as Redis;
  });

  it('keeps every counter under the prefix, each set to expire once it no longer matters', async () => {
    const counters = createRedisLimitCounters({ redis, prefix });
    await counters.admit(
      [
        { kind: 'bucket', key: 'rpm', limit: 10, cost: 1 },
        { kind: 'concurrency', key: 'concurrency', max: 1, leaseId: 'r', ttlMs: 1_000 },
        { kind: 'budget', key: 'day', limit: 100, amount: 5, seed: 1, ttlMs: 1_000 },
        { kind: 'budget', key: 'total', limit: 100, amount: 5, seed: 1, ttlMs: null },
      ],
      T0,
    );
    // Integer levels in 1/60 000ths of a token, as decimal strings, in the caller's clock.
    expect(await redis.hgetall(`${prefix}rpm`)).toEqual({ level: '540000', at: String(T0) });
    expect(await redis.zrange(`${prefix}concurrency`, 0, -1, 'WITHSCORES')).toEqual([
      'r',
      String(T0 + 1_000),
    ]);
    expect(await redis.hgetall(`${prefix}day`)).toEqual({
      spent: '1',
      reserved: '5',
      expires: String(T0 + 1_000),
    });
    // Until full again (6 s), until the lease or the budget expires (1 s), plus a minute of slack.
    expect(await redis.pttl(`${prefix}rpm`)).toBeGreaterThan(60_000);
    expect(await redis.pttl(`${prefix}rpm`)).toBeLessThanOrEqual(66_000);
    expect(await redis.pttl(`${prefix}concurrency`)).toBeGreaterThan(60_000);
    expect(await redis.pttl(`${prefix}day`)).toBeLessThanOrEqual(61_000);
    expect(await redis.pttl(`${prefix}total`)).toBe(-1);

    // A full bucket and an empty lease set are nothing to keep.
    await counters.settle(
      [
        { kind: 'bucket', key: 'rpm', limit: 10, delta: -1 },
        { kind: 'concurrency', key: 'concurrency', leaseId: 'r' },
      ],
      T0,
    );
    expect(await redis.exists(`${prefix}rpm`, `${prefix}concurrency`)).toBe(0);
    await counters.close();
  });

  it('keeps budgets exact to the unit far past 2^32, stored as plain integers', async () => {
    const counters = createRedisLimitCounters({ redis, prefix });
    const limit = 5_000 * 1e9; // $5 000 in nano-USD
    const reserve = (amount: number) =>
      counters.admit(
        [{ kind: 'budget', key: 'month', limit, amount, seed: limit - 1e12 + 1, ttlMs: null }],
        T0,
      );
    expect((await reserve(1e12)).ok).toBe(false);
    expect((await reserve(1e12 - 1)).outcomes[0]).toMatchObject({ passed: true, remaining: 0 });
    await counters.settle([{ kind: 'budget', key: 'month', reserved: 1e12 - 1, actual: 1e15 }], T0);
    expect(await redis.hgetall(`${prefix}month`)).toEqual({
      spent: '1004000000000001',
      reserved: '0',
    });
  });

  it('loads its scripts again when Redis has forgotten them (a restart, a failover)', async () => {
    // Every client must survive a flushed script cache (NOSCRIPT); ioredis's own scripts do too.
    await redis.script('FLUSH');
    const counters = createRedisLimitCounters({ redis, prefix });
    const check = { kind: 'bucket', key: 'reloaded', limit: 10, cost: 4 } as const;
    expect((await counters.admit([check], T0)).outcomes[0]).toMatchObject({ remaining: 6 });
    await redis.script('FLUSH');
    await counters.settle([{ kind: 'bucket', key: 'reloaded', limit: 10, delta: -4 }], T0);
    expect(await counters.peek([{ kind: 'bucket', key: 'reloaded', limit: 10 }], T0)).toMatchObject(
      [{ remaining: 10 }],
    );
  });
});
