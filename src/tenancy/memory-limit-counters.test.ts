import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { LimitProbe } from './limit-counters.js';
import { createMemoryLimitCounters } from './memory-limit-counters.js';

const T0 = 1_800_000_000_000;

describe('memory limit counters: the sweep', () => {
  it('drops full buckets, expired leases and expired budgets as of the latest now, changing no answer', async () => {
    const counters = createMemoryLimitCounters({ sweepIntervalMs: 0 });
    await counters.admit(
      [
        { kind: 'bucket', key: 'rpm', limit: 10, cost: 5 },
        { kind: 'concurrency', key: 'concurrency', max: 1, leaseId: 'r', ttlMs: 1_000 },
        { kind: 'budget', key: 'day', limit: 100, amount: 5, seed: 1, ttlMs: 1_000 },
        { kind: 'budget', key: 'total', limit: 100, amount: 5, seed: 1, ttlMs: null },
      ],
      T0,
    );
    expect(counters.sweep()).toBe(0);
    const probes: LimitProbe[] = [
      { kind: 'bucket', key: 'rpm', limit: 10 },
      { kind: 'concurrency', key: 'concurrency', max: 1 },
      { kind: 'budget', key: 'day', limit: 100, seed: 7 },
      { kind: 'budget', key: 'total', limit: 100, seed: 7 },
    ];
    // Only the clock moves (a look also drops what it finds stale, which would hide the sweep).
    await counters.peek([], T0 + 30_000);
    expect(counters.sweep()).toBe(3);
    expect(await counters.peek(probes, T0 + 30_000)).toMatchObject([
      { remaining: 10, resetMs: 0 },
      { active: 0 },
      { spent: 7, reserved: 0 },
      { spent: 1, reserved: 5 },
    ]);
    await counters.close();
  });

  it('runs on its own timer until closed', async () => {
    const counters = createMemoryLimitCounters({ sweepIntervalMs: 5 });
    await counters.admit([{ kind: 'bucket', key: 'rpm', limit: 10, cost: 5 }], T0);
    await counters.peek([], T0 + 30_000);
    await sleep(30);
    expect(counters.sweep()).toBe(0);
    await counters.close();
  });
});
