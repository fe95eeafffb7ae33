import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { redisUrlOrSkip, useRedis } from '../../test/helpers/real-services.js';
import { createLeasedLimitCounters } from './leased-limit-counters.js';
import type {
  BucketCheck,
  BudgetCheck,
  LimitCheck,
  LimitCounters,
  Settlement,
} from './limit-counters.js';
import { createMemoryLimitCounters } from './memory-limit-counters.js';
import { createRedisLimitCounters } from './redis-limit-counters.js';

const T0 = 1_800_000_000_000;
const MAX_AGE_MS = 2_000;

/** Shared counters that count the admissions and settlements that reach them. */
function counted(shared: LimitCounters) {
  const calls = { admit: 0, settle: 0, asked: [] as LimitCheck[][], settled: [] as Settlement[] };
  const counters: LimitCounters = {
    admit(checks, now) {
      calls.admit++;
      calls.asked.push([...checks]);
      return shared.admit(checks, now);
    },
    settle(settlements, now) {
      calls.settle++;
      calls.settled.push(...settlements);
      return shared.settle(settlements, now);
    },
    peek: (probes, now) => shared.peek(probes, now),
    close: () => shared.close(),
  };
  return { counters, calls };
}

const rpm = (key: string, limit: number): BucketCheck => ({
  kind: 'bucket',
  key,
  limit,
  cost: 1,
});
const budget = (key: string, limit: number, amount: number): BudgetCheck => ({
  kind: 'budget',
  key,
  limit,
  amount,
  seed: 0,
  ttlMs: null,
});

describe('leased limit counters', () => {
  let clock = T0;
  const errors: unknown[] = [];
  const open = (shared: LimitCounters) =>
    createLeasedLimitCounters({
      shared,
      now: () => clock,
      onError: (error) => errors.push(error),
      maxAgeMs: MAX_AGE_MS,
    });

  beforeEach(() => {
    clock = T0;
    errors.length = 0;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes a lease once the shared counter has room, then admits from it without asking', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    // The first admission learns how much room there is; the second takes 8 more requests' worth.
    expect((await counters.admit([rpm('a', 1_000)], clock)).ok).toBe(true);
    expect((await counters.admit([rpm('a', 1_000)], clock)).ok).toBe(true);
    expect(calls.asked[1]).toEqual([{ ...rpm('a', 1_000), cost: 9 }]);
    for (let index = 0; index < 4; index++) {
      const result = await counters.admit([rpm('a', 1_000)], clock);
      // What this instance could still use: the shared counter's 990 and its own lease.
      expect(result.outcomes[0]).toMatchObject({ passed: true, remaining: 990 + 7 - index });
    }
    expect(calls.admit).toBe(2);
    // Its own lease is counted as free; the shared counter alone shows it taken.
    const probe = { kind: 'bucket', key: 'a', limit: 1_000 } as const;
    expect(await counters.peek([probe], clock)).toMatchObject([{ remaining: 994 }]);
    expect(await memory.peek([probe], clock)).toMatchObject([{ remaining: 990 }]);
    // Half spent: the lease is topped up in the background, and requests keep being served from it.
    for (let index = 0; index < 40; index++) {
      expect((await counters.admit([rpm('a', 1_000)], clock)).ok).toBe(true);
    }
    const refills = calls.asked.slice(2);
    expect(refills.length).toBeGreaterThanOrEqual(40 / 8);
    expect(refills.every((checks) => (checks[0] as BucketCheck).cost === 8)).toBe(true);
    await counters.close();
    // Every token of the leases not used went back.
    const [state] = await memory.peek([{ kind: 'bucket', key: 'a', limit: 1_000 }], clock);
    expect(state?.remaining).toBe(1_000 - 46);
  });

  it('takes one lease for parallel requests that find none, not one each', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    await counters.admit([rpm('p', 1_000)], clock);
    await Promise.all(Array.from({ length: 10 }, () => counters.admit([rpm('p', 1_000)], clock)));
    const costs = calls.asked.slice(1).map((checks) => (checks[0] as BucketCheck).cost);
    expect(costs.filter((cost) => cost > 1)).toEqual([9]);
    await counters.close();
  });

  it('never leases near the limit: 50 parallel requests on two instances, exactly 10 pass', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const [first, second] = [open(shared), open(shared)];
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (index % 2 === 0 ? first : second).admit([rpm('ten', 10)], clock),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(10);
    expect(calls.admit).toBe(50);
    await Promise.all([first.close(), second.close()]);
  });

  it('never admits more than the limit on two instances, and hands back what it did not use', async () => {
    const memory = createMemoryLimitCounters();
    const [first, second] = [open(memory), open(memory)];
    let passed = 0;
    for (let index = 0; index < 400; index++) {
      const result = await (index % 3 === 0 ? first : second).admit([rpm('r', 200)], clock);
      if (result.ok) passed++;
    }
    expect(passed).toBeLessThanOrEqual(200);
    // Leases stop well before the limit; what one instance holds the other may be refused.
    expect(passed).toBeGreaterThanOrEqual(200 - 2 * 8);
    await Promise.all([first.close(), second.close()]);
    const [state] = await memory.peek([{ kind: 'bucket', key: 'r', limit: 200 }], clock);
    expect(state?.remaining).toBe(200 - passed);
  });

  it('settles refunds into the lease, and hands it back when closed', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    const tpm = (cost: number): LimitCheck => ({ kind: 'bucket', key: 't', limit: 100_000, cost });
    await counters.admit([tpm(100)], clock);
    await counters.admit([tpm(100)], clock); // leases 800 more
    // Used 10 of the 100 reserved: the 90 go back into the lease, not to the shared counter.
    await counters.settle([{ kind: 'bucket', key: 't', limit: 100_000, delta: -90 }], clock);
    // Used 900 more than reserved: more than the lease holds, so the shared counter is told now.
    await counters.settle([{ kind: 'bucket', key: 't', limit: 100_000, delta: 900 }], clock);
    expect(calls.settled).toEqual([{ kind: 'bucket', key: 't', limit: 100_000, delta: 900 }]);
    const peekShared = async () =>
      (await memory.peek([{ kind: 'bucket', key: 't', limit: 100_000 }], clock))[0]?.remaining;
    expect(await peekShared()).toBe(100_000 - 1_000 - 900);
    await counters.close();
    // Used: 10 and 1,000; the lease's 890 are back.
    expect(await peekShared()).toBe(100_000 - 1_010);
  });

  it('serves nothing from a lease older than maxAgeMs, and the timer hands it back', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    const peekShared = async () =>
      (await memory.peek([{ kind: 'budget', key: 'h', limit: 1_000_000, seed: 0 }], clock))[0];
    await counters.admit([budget('h', 1_000_000, 100)], clock);
    await counters.admit([budget('h', 1_000_000, 100)], clock); // leases 800 more
    expect(await peekShared()).toMatchObject({ spent: 0, reserved: 1_000 });
    const probe = { kind: 'budget', key: 'h', limit: 1_000_000, seed: 0 } as const;
    expect(await counters.peek([probe], clock)).toMatchObject([{ spent: 0, reserved: 200 }]);
    await counters.settle([{ kind: 'budget', key: 'h', reserved: 100, actual: 10 }], clock);
    expect(calls.settle).toBe(0);
    clock += MAX_AGE_MS;
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS / 2);
    // The lease's 890 are free again and its request's 10 spent; the other request holds 100.
    expect(calls.settled).toEqual([{ kind: 'budget', key: 'h', reserved: 900, actual: 10 }]);
    expect(await peekShared()).toMatchObject({ spent: 10, reserved: 100 });
    await counters.admit([budget('h', 1_000_000, 100)], clock);
    expect(calls.admit).toBe(3);
    await counters.close();
  });

  it('hands a lease back at once when the limit changes', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    await counters.admit([rpm('c', 1_000)], clock);
    await counters.admit([rpm('c', 1_000)], clock);
    expect(calls.admit).toBe(2);
    // Lowered to 500: not served from the old lease, which goes back under its own limit.
    await counters.admit([rpm('c', 500)], clock);
    expect(calls.admit).toBe(3);
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS / 2);
    expect(calls.settled).toEqual([{ kind: 'bucket', key: 'c', limit: 1_000, delta: -8 }]);
    await counters.close();
  });

  it('asks for the request alone when the lease is what did not fit', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    await counters.admit([rpm('d', 1_000)], clock);
    // Another instance takes all but 4 since.
    await memory.admit([{ ...rpm('d', 1_000), cost: 995 }], clock);
    expect((await counters.admit([rpm('d', 1_000)], clock)).ok).toBe(true);
    expect(calls.asked.slice(1).map((checks) => (checks[0] as { cost: number }).cost)).toEqual([
      9, 1,
    ]);
    await counters.close();
  });

  it('sends a request with a concurrency slot to the shared counters, every time', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    const checks = (id: string): LimitCheck[] => [
      rpm('e', 1_000),
      { kind: 'concurrency', key: 'e:slots', max: 100, leaseId: id },
    ];
    for (let index = 0; index < 5; index++) await counters.admit(checks(`r${index}`), clock);
    expect(calls.admit).toBe(5);
    await counters.settle([{ kind: 'concurrency', key: 'e:slots', leaseId: 'r0' }], clock);
    expect(calls.settle).toBe(1);
    await counters.close();
  });

  it('never serves a spent budget from an empty lease, whatever the request costs', async () => {
    const memory = createMemoryLimitCounters();
    const counters = open(memory);
    expect((await counters.admit([budget('f', 100, 100)], clock)).ok).toBe(true);
    await counters.settle([{ kind: 'budget', key: 'f', reserved: 100, actual: 100 }], clock);
    expect((await counters.admit([budget('f', 100, 0)], clock)).ok).toBe(true);
    expect((await counters.admit([budget('f', 100, 1)], clock)).ok).toBe(false);
    await counters.close();
  });

  it('serves requests that cost nothing from a small lease', async () => {
    const memory = createMemoryLimitCounters();
    const { counters: shared, calls } = counted(memory);
    const counters = open(shared);
    for (let index = 0; index < 5; index++) {
      expect((await counters.admit([budget('z', 1_000_000, 0)], clock)).ok).toBe(true);
    }
    expect(calls.asked.map((checks) => (checks[0] as BudgetCheck).amount)).toEqual([0, 8]);
    await counters.close();
    const [state] = await memory.peek(
      [{ kind: 'budget', key: 'z', limit: 1_000_000, seed: 0 }],
      clock,
    );
    expect(state).toMatchObject({ spent: 0, reserved: 0 });
  });

  it('waits for a refill on its way before handing everything back when closed', async () => {
    const memory = createMemoryLimitCounters();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let asked = 0;
    const slow: LimitCounters = {
      admit: async (checks, now) => {
        // The refill (the third call) is held until the test lets it go.
        if (++asked === 3) await gate;
        return memory.admit(checks, now);
      },
      settle: (settlements, now) => memory.settle(settlements, now),
      peek: (probes, now) => memory.peek(probes, now),
      close: () => memory.close(),
    };
    const counters = open(slow);
    for (let index = 0; index < 7; index++) await counters.admit([rpm('w', 1_000)], clock);
    expect(asked).toBe(3);
    const closed = counters.close();
    release();
    await closed;
    const [state] = await memory.peek([{ kind: 'bucket', key: 'w', limit: 1_000 }], clock);
    expect(state?.remaining).toBe(1_000 - 7);
  });

  it('tries a hand-back again when the shared counters could not take it', async () => {
    const memory = createMemoryLimitCounters();
    let failures = 1;
    const flaky: LimitCounters = {
      ...memory,
      admit: (checks, now) => memory.admit(checks, now),
      peek: (probes, now) => memory.peek(probes, now),
      settle(settlements, now) {
        if (failures-- > 0) return Promise.reject(new Error('redis went away'));
        return memory.settle(settlements, now);
      },
      close: () => memory.close(),
    };
    const counters = open(flaky);
    await counters.admit([budget('g', 1_000_000, 100)], clock);
    await counters.admit([budget('g', 1_000_000, 100)], clock);
    clock += MAX_AGE_MS;
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS / 2);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS / 2);
    const [state] = await memory.peek(
      [{ kind: 'budget', key: 'g', limit: 1_000_000, seed: 0 }],
      clock,
    );
    expect(state).toMatchObject({ spent: 0, reserved: 200 });
    await counters.close();
  });

  it('keeps every unit of a budget over random admissions and settlements on two instances', async () => {
    const step = fc.record({
      instance: fc.integer({ min: 0, max: 1 }),
      amount: fc.integer({ min: 0, max: 500 }),
      actual: fc.integer({ min: 0, max: 700 }),
      settle: fc.boolean(),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 * MAX_AGE_MS })),
    });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 120 }), async (steps) => {
        const key = `budget:${run++}`;
        const limit = 20_000;
        const memory = createMemoryLimitCounters();
        const instances = [open(memory), open(memory)];
        const open_: { instance: number; amount: number }[] = [];
        let settledActual = 0;
        for (const { instance, amount, actual, settle, advanceMs } of steps) {
          clock += advanceMs;
          await vi.advanceTimersByTimeAsync(advanceMs);
          const counters = instances[instance] as LimitCounters;
          if (settle && open_.length > 0) {
            const request = open_.shift() as { instance: number; amount: number };
            const settlement: Settlement = {
              kind: 'budget',
              key,
              reserved: request.amount,
              actual,
            };
            await (instances[request.instance] as LimitCounters).settle([settlement], clock);
            settledActual += actual;
            continue;
          }
          const result = await counters.admit([budget(key, limit, amount)], clock);
          if (result.ok) {
            open_.push({ instance, amount });
            // Never more than the limit: what was spent and what admitted requests hold.
            const held = open_.reduce((sum, request) => sum + request.amount, 0);
            expect(settledActual + held).toBeLessThanOrEqual(limit);
          }
        }
        for (const request of open_) {
          await (instances[request.instance] as LimitCounters).settle(
            [{ kind: 'budget', key, reserved: request.amount, actual: 0 }],
            clock,
          );
        }
        await Promise.all(instances.map((counters) => counters.close()));
        const [state] = await memory.peek([{ kind: 'budget', key, limit, seed: 0 }], clock);
        expect(state).toMatchObject({ spent: settledActual, reserved: 0 });
      }),
      { numRuns: 100 },
    );
  });
});

const redisUrl = redisUrlOrSkip();

describe.skipIf(redisUrl === null)('leased limit counters over Redis, two instances', () => {
  const { prefix, connections } = useRedis(redisUrl ?? '', 2);
  /** Admissions that reached Redis, from either instance, in the current test. */
  const calls = { admit: 0 };
  beforeEach(() => {
    calls.admit = 0;
  });
  const open = (redis: Redis) => {
    const redisCounters = createRedisLimitCounters({ redis, prefix });
    return createLeasedLimitCounters({
      shared: {
        ...redisCounters,
        admit(checks, now) {
          calls.admit++;
          return redisCounters.admit(checks, now);
        },
      },
      now: Date.now,
      onError: (error) => {
        throw error;
      },
    });
  };

  it('admits exactly 10 of 50 parallel requests against a limit of 10', async () => {
    const instances = connections.map(open);
    const now = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        (instances[index % 2] as LimitCounters).admit([rpm('exact', 10)], now),
      ),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(10);
    expect(calls.admit).toBe(50);
    await Promise.all(instances.map((counters) => counters.close()));
  });

  it('keeps a budget whole when both instances lease it in parallel', async () => {
    const instances = connections.map(open);
    const now = Date.now();
    const limit = 50_000;
    let admitted = 0;
    let actual = 0;
    // Waves of 20 parallel requests of 100 units, each settled at 60: leases form and refill.
    let asked = 0;
    for (let wave = 0; wave < 60; wave++) {
      asked += 20;
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          (instances[index % 2] as LimitCounters).admit([budget('spend', limit, 100)], now),
        ),
      );
      await Promise.all(
        results.map(async (result, index) => {
          if (!result.ok) return;
          admitted++;
          actual += 60;
          await (instances[index % 2] as LimitCounters).settle(
            [{ kind: 'budget', key: 'spend', reserved: 100, actual: 60 }],
            now,
          );
        }),
      );
    }
    await Promise.all(instances.map((counters) => counters.close()));
    const reader = createRedisLimitCounters({ redis: connections[0] as Redis, prefix });
    const [state] = await reader.peek([{ kind: 'budget', key: 'spend', limit, seed: 0 }], now);
    expect(state).toMatchObject({ spent: actual, reserved: 0 });
    expect(admitted * 60).toBe(actual);
    // Leases served a good share of admissions without a round trip to Redis, even in bursts of
    // 10 per instance (one lease at a time per counter: the rest of a burst asks one by one).
    expect(calls.admit).toBeLessThan(asked * 0.75);
    expect(actual).toBeLessThanOrEqual(limit);
    // Near the end leases stop and requests are admitted one by one until the budget is spent;
    // what is left unspent is what fits no request and what leases held when the waves ended.
    expect(limit - actual).toBeLessThan(100 + 2 * 2_000);
  });
});
