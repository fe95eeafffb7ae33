/**
 * Properties of the limit counters over random sequences, checked against a plain model written
 * here from the definitions: many runs on memory, fewer on a real Redis (each step is a round
 * trip there).
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrlOrSkip, useRedis } from '../../test/helpers/real-services.js';
import type { LimitCounters } from './limit-counters.js';
import { createMemoryLimitCounters } from './memory-limit-counters.js';
import { createRedisLimitCounters } from './redis-limit-counters.js';

const T0 = 1_800_000_000_000;
const MINUTE = 60_000;

/** A bucket request: wait `advanceMs`, then admit `cost` (or, when settling, add `delta` of use). */
const bucketStep = fc.record({
  advanceMs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 3 * MINUTE })),
  cost: fc.integer({ min: 0, max: 130 }),
  delta: fc.integer({ min: -150, max: 150 }),
  settle: fc.boolean(),
});

/** A budget step: reserve `amount`, or settle the oldest open reservation at `actual`. */
const budgetStep = fc.record({
  amount: fc.integer({ min: 0, max: 40 }),
  actual: fc.integer({ min: 0, max: 60 }),
  settle: fc.boolean(),
});

function describeProperties(name: string, open: () => LimitCounters, numRuns: number): void {
  describe(name, () => {
    let counters: LimitCounters;
    let sequence = 0;
    beforeAll(() => {
      counters = open();
    });
    afterAll(() => counters.close());

    it('never admits more than capacity + rate × elapsed, and never refuses what fits', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 120 }),
          fc.array(bucketStep, { maxLength: 40 }),
          async (limit, steps) => {
            const key = `bucket:${++sequence}`;
            // The model, in 1/60 000ths of a token: `limit` of them per ms, capacity limit × 60 000.
            const capacity = limit * MINUTE;
            let level = capacity;
            let now = T0;
            const admitted: { at: number; cost: number }[] = [];
            for (const { advanceMs, cost, delta, settle } of steps) {
              level = Math.min(capacity, level + advanceMs * limit);
              now += advanceMs;
              if (settle) {
                await counters.settle([{ kind: 'bucket', key, limit, delta }], now);
                level = Math.min(capacity, level - delta * MINUTE);
                continue;
              }
              const result = await counters.admit([{ kind: 'bucket', key, limit, cost }], now);
              const fits = level >= cost * MINUTE;
              expect(result.ok).toBe(fits);
              if (fits) {
                level -= cost * MINUTE;
                admitted.push({ at: now, cost });
              } else if (cost <= limit) {
                // The wait it reports is exactly when the cost fits: not a ms sooner or later.
                const wait =
                  result.outcomes[0]?.kind === 'bucket' ? result.outcomes[0].retryAfterMs : -1;
                expect(level + wait * limit).toBeGreaterThanOrEqual(cost * MINUTE);
                expect(level + (wait - 1) * limit).toBeLessThan(cost * MINUTE);
              }
            }
            // Refunds give tokens back, so the rate bound holds for runs of pure admissions.
            if (steps.some((step) => step.settle)) return;
            for (let first = 0; first < admitted.length; first++) {
              let total = 0;
              for (let last = first; last < admitted.length; last++) {
                total += (admitted[last] as { cost: number }).cost;
                const elapsed =
                  (admitted[last] as { at: number }).at - (admitted[first] as { at: number }).at;
                expect(total * MINUTE).toBeLessThanOrEqual(capacity + elapsed * limit);
              }
            }
          },
        ),
        { numRuns },
      );
    });

    it('never reserves a budget past its limit, and never refuses what fits', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 100 }),
          fc.integer({ min: 0, max: 60 }),
          fc.array(budgetStep, { maxLength: 40 }),
          async (limit, seed, steps) => {
            const key = `budget:${++sequence}`;
            let spent = seed;
            let reserved = 0;
            const open: number[] = [];
            for (const { amount, actual, settle } of steps) {
              const reservation = open[0];
              if (settle && reservation !== undefined) {
                open.shift();
                await counters.settle([{ kind: 'budget', key, reserved: reservation, actual }], T0);
                reserved -= reservation;
                spent += actual;
                continue;
              }
              const result = await counters.admit(
                [{ kind: 'budget', key, limit, amount, seed, ttlMs: null }],
                T0,
              );
              const fits = spent + reserved + amount <= limit;
              expect(result.ok).toBe(fits);
              if (fits) {
                reserved += amount;
                open.push(amount);
                expect(spent + reserved).toBeLessThanOrEqual(limit);
              }
              expect(result.outcomes[0]).toMatchObject({ spent, reserved });
            }
          },
        ),
        { numRuns },
      );
    });
  });
}

describeProperties(
  'memory limit counters',
  () => createMemoryLimitCounters({ sweepIntervalMs: 0 }),
  300,
);

const redisUrl = redisUrlOrSkip();

describe.skipIf(redisUrl === null)('redis limit counters', () => {
  const { prefix, connections } = useRedis(redisUrl ?? '');
  describeProperties(
    'properties',
    () => createRedisLimitCounters({ redis: connections[0] as Redis, prefix }),
    40,
  );
});
