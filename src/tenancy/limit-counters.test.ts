/**
 * The conformance suite of the limit counters: the same cases, word for word, against the memory
 * implementation and a real Redis (two connections standing for two gateway instances). It is
 * one file past ~300 lines on purpose: a second copy of any case is how two implementations of
 * one semantics drift apart.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisUrlOrSkip, useRedis } from '../../test/helpers/real-services.js';
import type { LimitCheck, LimitCounters, LimitProbe } from './limit-counters.js';
import { createMemoryLimitCounters } from './memory-limit-counters.js';
import { createRedisLimitCounters } from './redis-limit-counters.js';

/** Two handles on the same counters: for Redis, two connections, like two gateway instances. */
interface Subject {
  readonly counters: LimitCounters;
  readonly peer: LimitCounters;
}

const T0 = 1_800_000_000_000;
const MINUTE = 60_000;

function describeLimitCounters(name: string, open: () => Subject): void {
  describe(name, () => {
    let counters: LimitCounters;
    let peer: LimitCounters;
    let sequence = 0;
    /** A key no other case uses, so cases never see each other's counters. */
    const fresh = (label: string) => `${label}:${++sequence}`;

    beforeAll(() => {
      ({ counters, peer } = open());
    });
    afterAll(async () => {
      await counters.close();
      await peer.close();
    });

    describe('buckets', () => {
      it('start full and refill continuously at limit per minute', async () => {
        const key = fresh('rpm');
        const check = (cost: number): LimitCheck => ({ kind: 'bucket', key, limit: 10, cost });
        expect(await counters.admit([check(1)], T0)).toEqual({
          ok: true,
          outcomes: [
            {
              kind: 'bucket',
              key,
              limit: 10,
              remaining: 9,
              resetMs: 6_000,
              passed: true,
              retryAfterMs: 0,
              never: false,
            },
          ],
        });
        expect((await counters.admit([check(9)], T0)).outcomes[0]).toMatchObject({
          remaining: 0,
          resetMs: MINUTE,
        });
        expect(await counters.admit([check(1)], T0)).toMatchObject({
          ok: false,
          failed: 0,
          retryAfterMs: 6_000,
        });
        expect(await peer.admit([check(1)], T0 + 5_999)).toMatchObject({
          ok: false,
          retryAfterMs: 1,
        });
        expect((await peer.admit([check(1)], T0 + 6_000)).outcomes[0]).toMatchObject({
          passed: true,
          remaining: 0,
          resetMs: MINUTE,
        });
        const probe: LimitProbe = { kind: 'bucket', key, limit: 10 };
        expect(await counters.peek([probe], T0 + 42_000)).toEqual([
          { kind: 'bucket', key, limit: 10, remaining: 6, resetMs: 24_000 },
        ]);
        expect(await counters.peek([probe], T0 + 10 * MINUTE)).toMatchObject([
          { remaining: 10, resetMs: 0 },
        ]);
      });

      it('say when a token estimate will fit', async () => {
        const check: LimitCheck = { kind: 'bucket', key: fresh('tpm'), limit: 1_000, cost: 400 };
        await counters.admit([check], T0);
        await counters.admit([check], T0);
        // 200 tokens left, 200 more needed at 1000 per minute: 12 s.
        expect(await counters.admit([check], T0)).toMatchObject({
          ok: false,
          retryAfterMs: 12_000,
        });
        expect(await counters.admit([check], T0 + 11_999)).toMatchObject({
          ok: false,
          retryAfterMs: 1,
        });
        expect((await counters.admit([check], T0 + 12_000)).ok).toBe(true);
      });

      it('refuse a cost above the capacity as never fitting, with a finite retry-after', async () => {
        const key = fresh('tpm');
        const tooLarge: LimitCheck = { kind: 'bucket', key, limit: 10, cost: 11 };
        expect(await counters.admit([tooLarge], T0)).toEqual({
          ok: false,
          failed: 0,
          retryAfterMs: null,
          outcomes: [
            {
              kind: 'bucket',
              key,
              limit: 10,
              remaining: 10,
              resetMs: 0,
              passed: false,
              retryAfterMs: 0,
              never: true,
            },
          ],
        });
        await counters.admit([{ ...tooLarge, cost: 5 }], T0);
        expect((await counters.admit([tooLarge], T0)).outcomes[0]).toMatchObject({
          never: true,
          retryAfterMs: 30_000,
        });
      });

      it('cap a refund at the capacity and let over-use drive the level below zero', async () => {
        const key = fresh('tpm');
        const probe: LimitProbe = { kind: 'bucket', key, limit: 10 };
        await counters.admit([{ kind: 'bucket', key, limit: 10, cost: 5 }], T0);
        await counters.settle([{ kind: 'bucket', key, limit: 10, delta: -100 }], T0);
        expect(await counters.peek([probe], T0)).toMatchObject([{ remaining: 10, resetMs: 0 }]);

        await counters.admit([{ kind: 'bucket', key, limit: 10, cost: 1 }], T0);
        await peer.settle([{ kind: 'bucket', key, limit: 10, delta: 19 }], T0);
        // Level -10: twenty tokens to full, at 10 per minute.
        expect(await counters.peek([probe], T0)).toMatchObject([
          { remaining: 0, resetMs: 2 * MINUTE },
        ]);
        const one: LimitCheck = { kind: 'bucket', key, limit: 10, cost: 1 };
        expect(await counters.admit([one], T0)).toMatchObject({ ok: false, retryAfterMs: 66_000 });
        expect((await counters.admit([one], T0 + 66_000)).ok).toBe(true);
      });

      it('neither refill nor rewind on a clock behind the last write (a lagging instance)', async () => {
        const check: LimitCheck = { kind: 'bucket', key: fresh('rpm'), limit: 10, cost: 10 };
        await counters.admit([check], T0 + 10_000);
        const one = { ...check, cost: 1 };
        expect(await peer.admit([one], T0)).toMatchObject({ ok: false, retryAfterMs: 6_000 });
        expect((await peer.admit([one], T0 + 16_000)).ok).toBe(true);
      });
    });

    describe('admission', () => {
      it('takes nothing from the key when its team refuses', async () => {
        const key = fresh('key');
        const team = fresh('team');
        const keyChecks: LimitCheck[] = [
          { kind: 'bucket', key: `${key}:rpm`, limit: 10, cost: 1 },
          { kind: 'bucket', key: `${key}:tpm`, limit: 1_000, cost: 100 },
          { kind: 'concurrency', key: `${key}:concurrency`, max: 5, leaseId: 'request-1' },
          { kind: 'budget', key: `${key}:budget`, limit: 1_000, amount: 10, seed: 3, ttlMs: null },
        ];
        const teamRpm: LimitCheck = { kind: 'bucket', key: `${team}:rpm`, limit: 1, cost: 1 };
        expect((await counters.admit([teamRpm], T0)).ok).toBe(true);

        const refused = await peer.admit([...keyChecks, teamRpm], T0);
        expect(refused).toMatchObject({ ok: false, failed: 4, retryAfterMs: MINUTE });
        expect(refused.outcomes.map((outcome) => outcome.passed)).toEqual([
          true,
          true,
          true,
          true,
          false,
        ]);
        expect(refused.outcomes[0]).toMatchObject({ remaining: 10 });
        expect(
          await counters.peek(
            [
              { kind: 'bucket', key: `${key}:rpm`, limit: 10 },
              { kind: 'bucket', key: `${key}:tpm`, limit: 1_000 },
              { kind: 'concurrency', key: `${key}:concurrency`, max: 5 },
              { kind: 'budget', key: `${key}:budget`, limit: 1_000, seed: 0 },
            ],
            T0,
          ),
        ).toMatchObject([
          { remaining: 10, resetMs: 0 },
          { remaining: 1_000, resetMs: 0 },
          { active: 0, remaining: 5 },
          // Not even seeded: a refused admission writes nothing.
          { spent: 0, reserved: 0, remaining: 1_000 },
        ]);
      });

      it('reports the longest wait of the refused buckets, or none when waiting cannot help', async () => {
        const slow: LimitCheck = { kind: 'bucket', key: fresh('slow'), limit: 1, cost: 1 };
        const quick: LimitCheck = { kind: 'bucket', key: fresh('quick'), limit: 2, cost: 1 };
        await counters.admit([slow, { ...quick, cost: 2 }], T0);
        expect(await counters.admit([quick, slow], T0)).toMatchObject({
          ok: false,
          failed: 0,
          retryAfterMs: MINUTE,
        });
        const full: LimitCheck = {
          kind: 'concurrency',
          key: fresh('concurrency'),
          max: 0,
          leaseId: 'r',
        };
        expect(await counters.admit([quick, full], T0)).toMatchObject({
          ok: false,
          failed: 0,
          retryAfterMs: null,
        });
      });

      it('admits an empty list and rejects malformed checks before touching anything', async () => {
        expect(await counters.admit([], T0)).toEqual({ ok: true, outcomes: [] });
        const key = fresh('rpm');
        const twice: LimitCheck[] = [
          { kind: 'bucket', key, limit: 10, cost: 1 },
          { kind: 'bucket', key, limit: 10, cost: 1 },
        ];
        await expect(counters.admit(twice, T0)).rejects.toThrow(RangeError);
        await expect(
          counters.admit([{ kind: 'bucket', key, limit: 10, cost: 0.5 }], T0),
        ).rejects.toThrow(RangeError);
        await expect(
          counters.settle([{ kind: 'budget', key, reserved: -1, actual: 0 }], T0),
        ).rejects.toThrow(RangeError);
        expect(await counters.peek([{ kind: 'bucket', key, limit: 10 }], T0)).toMatchObject([
          { remaining: 10 },
        ]);
      });
    });

    describe('concurrency', () => {
      it('leases slots per request id; a release frees one, a second release changes nothing', async () => {
        const key = fresh('concurrency');
        const lease = (leaseId: string): LimitCheck => ({
          kind: 'concurrency',
          key,
          max: 2,
          leaseId,
        });
        expect((await counters.admit([lease('a')], T0)).outcomes[0]).toMatchObject({
          active: 1,
          remaining: 1,
        });
        expect((await peer.admit([lease('b')], T0)).outcomes[0]).toMatchObject({
          active: 2,
          remaining: 0,
        });
        expect(await counters.admit([lease('c')], T0)).toMatchObject({
          ok: false,
          retryAfterMs: null,
        });
        // A request's own live lease does not count against it.
        expect((await counters.admit([lease('b')], T0)).outcomes[0]).toMatchObject({
          passed: true,
          active: 2,
        });

        await peer.settle([{ kind: 'concurrency', key, leaseId: 'a' }], T0);
        expect((await counters.admit([lease('c')], T0)).ok).toBe(true);
        await counters.settle([{ kind: 'concurrency', key, leaseId: 'a' }], T0);
        expect(await counters.peek([{ kind: 'concurrency', key, max: 2 }], T0)).toEqual([
          { kind: 'concurrency', key, limit: 2, active: 2, remaining: 0 },
        ]);
      });

      it('forgets a lease after its ttl, 15 minutes by default', async () => {
        const key = fresh('concurrency');
        await counters.admit(
          [{ kind: 'concurrency', key, max: 2, leaseId: 'short', ttlMs: 1_000 }],
          T0,
        );
        await counters.admit([{ kind: 'concurrency', key, max: 2, leaseId: 'default' }], T0);
        const next: LimitCheck = { kind: 'concurrency', key, max: 2, leaseId: 'next' };
        expect((await peer.admit([next], T0 + 999)).ok).toBe(false);
        expect((await peer.admit([next], T0 + 1_000)).ok).toBe(true);
        const last: LimitCheck = { kind: 'concurrency', key, max: 2, leaseId: 'last' };
        expect((await counters.admit([last], T0 + 15 * MINUTE - 1)).ok).toBe(false);
        expect((await counters.admit([last], T0 + 15 * MINUTE)).ok).toBe(true);
      });
    });

    describe('budgets', () => {
      it('seed once from the database, then count on their own, up to the limit exactly', async () => {
        const key = fresh('budget');
        const reserve = (amount: number, seed: number): LimitCheck => ({
          kind: 'budget',
          key,
          limit: 10,
          amount,
          seed,
          ttlMs: 2 * 24 * 60 * MINUTE,
        });
        expect(await counters.admit([reserve(3, 7)], T0)).toEqual({
          ok: true,
          outcomes: [
            { kind: 'budget', key, limit: 10, spent: 7, reserved: 3, remaining: 0, passed: true },
          ],
        });
        // The seed is read once: a later, lower figure from the database changes nothing.
        expect(await peer.admit([reserve(1, 0)], T0)).toMatchObject({
          ok: false,
          retryAfterMs: null,
          outcomes: [{ spent: 7, reserved: 3, passed: false }],
        });
        expect((await peer.admit([reserve(0, 0)], T0)).ok).toBe(true);
      });

      it('turn a reservation into spend on settle, even above the reservation', async () => {
        const key = fresh('budget');
        const probe: LimitProbe = { kind: 'budget', key, limit: 100, seed: 0 };
        await counters.admit(
          [{ kind: 'budget', key, limit: 100, amount: 20, seed: 10, ttlMs: null }],
          T0,
        );
        await counters.admit(
          [{ kind: 'budget', key, limit: 100, amount: 20, seed: 10, ttlMs: null }],
          T0,
        );
        await peer.settle([{ kind: 'budget', key, reserved: 20, actual: 35 }], T0);
        expect(await counters.peek([probe], T0)).toMatchObject([
          { spent: 45, reserved: 20, remaining: 35 },
        ]);
        await counters.settle([{ kind: 'budget', key, reserved: 30, actual: 60 }], T0);
        expect(await counters.peek([probe], T0)).toMatchObject([
          { spent: 105, reserved: 0, remaining: 0 },
        ]);
        const after = await counters.admit(
          [{ kind: 'budget', key, limit: 100, amount: 0, seed: 0, ttlMs: null }],
          T0,
        );
        expect(after.ok).toBe(false);
      });

      it('expire after their ttl and are seeded again; no ttl keeps them', async () => {
        const key = fresh('budget');
        const kept = fresh('budget');
        await counters.admit(
          [
            { kind: 'budget', key, limit: 100, amount: 5, seed: 1, ttlMs: 1_000 },
            { kind: 'budget', key: kept, limit: 100, amount: 5, seed: 1, ttlMs: null },
          ],
          T0,
        );
        const probes: LimitProbe[] = [
          { kind: 'budget', key, limit: 100, seed: 50 },
          { kind: 'budget', key: kept, limit: 100, seed: 50 },
        ];
        expect(await peer.peek(probes, T0 + 999)).toMatchObject([
          { spent: 1, reserved: 5 },
          { spent: 1 },
        ]);
        expect(await peer.peek(probes, T0 + 1_000)).toMatchObject([
          { spent: 50, reserved: 0 },
          { spent: 1 },
        ]);
        // Settling a counter that is gone leaves it gone: the spend is in the database already.
        await counters.settle([{ kind: 'budget', key, reserved: 5, actual: 5 }], T0 + 1_000);
        const again = await counters.admit(
          [{ kind: 'budget', key, limit: 100, amount: 5, seed: 60, ttlMs: 1_000 }],
          T0 + 1_000,
        );
        expect(again.outcomes[0]).toMatchObject({ spent: 60, reserved: 5 });
        expect(await peer.peek(probes, T0 + 365 * 24 * 60 * MINUTE)).toMatchObject([
          { spent: 50 },
          { spent: 1 },
        ]);
      });
    });

    describe('under contention', () => {
      /** 50 admissions at once, alternating between the two handles; how many passed. */
      async function admittedOf(checksOf: (index: number) => LimitCheck[]): Promise<number> {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            (index % 2 === 0 ? counters : peer).admit(checksOf(index), T0),
          ),
        );
        return results.filter((result) => result.ok).length;
      }

      it('admits exactly the capacity of a bucket, a budget and a concurrency limit', async () => {
        const bucket = fresh('rpm');
        const budget = fresh('budget');
        const concurrency = fresh('concurrency');
        expect(await admittedOf(() => [{ kind: 'bucket', key: bucket, limit: 10, cost: 1 }])).toBe(
          10,
        );
        expect(
          await admittedOf(() => [
            { kind: 'budget', key: budget, limit: 10, amount: 1, seed: 0, ttlMs: null },
          ]),
        ).toBe(10);
        expect(
          await admittedOf((index) => [
            { kind: 'concurrency', key: concurrency, max: 10, leaseId: `r${index}` },
          ]),
        ).toBe(10);
      });

      it('leaves the keys of every refused admission untouched', async () => {
        const team = fresh('team');
        const keyOf = (index: number) => `${team}:key-${index}`;
        const admitted = await admittedOf((index) => [
          { kind: 'bucket', key: keyOf(index), limit: 5, cost: 1 },
          { kind: 'bucket', key: team, limit: 10, cost: 1 },
        ]);
        expect(admitted).toBe(10);
        const states = await counters.peek(
          Array.from(
            { length: 50 },
            (_, index) => ({ kind: 'bucket', key: keyOf(index), limit: 5 }) as const,
          ),
          T0,
        );
        expect(states.filter((state) => state.remaining === 4)).toHaveLength(10);
        expect(states.filter((state) => state.remaining === 5)).toHaveLength(40);
      });
    });
  });
}

describeLimitCounters('memory limit counters', () => {
  const counters = createMemoryLimitCounters({ sweepIntervalMs: 0 });
  return { counters, peer: counters };
});

const redisUrl = redisUrlOrSkip();

describe.skipIf(redisUrl === null)('redis limit counters', () => {
  const { prefix, connections } = useRedis(redisUrl ?? '', 2);

  describeLimitCounters('two instances on one Redis', () => {
    const [first, second] = connections as [Redis, Redis];
    return {
      counters: createRedisLimitCounters({ redis: first, prefix }),
      peer: createRedisLimitCounters({ redis: second, prefix }),
    };
  });
});
