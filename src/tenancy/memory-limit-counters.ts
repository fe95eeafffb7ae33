import {
  type AdmitResult,
  admitResult,
  assertValidChecks,
  assertValidSettlements,
  BUCKET_UNITS_PER_TOKEN,
  bucketOutcome,
  bucketResetMs,
  bucketState,
  budgetOutcome,
  budgetState,
  type CheckOutcome,
  concurrencyOutcome,
  concurrencyState,
  DEFAULT_LEASE_TTL_MS,
  type LimitCheck,
  type LimitCounters,
  type LimitProbe,
  type LimitState,
  refilledLevel,
  type Settlement,
} from './limit-counters.js';

/** Options of {@link createMemoryLimitCounters}. */
export interface MemoryLimitCountersOptions {
  /** How often state that no longer matters is dropped (ms); 0 turns the timer off. Default 60 000. */
  readonly sweepIntervalMs?: number;
}

/** The in-memory limit counters, with the sweep exposed for tests and metrics. */
export interface MemoryLimitCounters extends LimitCounters {
  /**
   * Drops full buckets, expired leases and expired budgets as of the latest `now` any call
   * passed (the caller's clock, not this process's); returns how many counters went. Dropping
   * changes nothing observable: an absent bucket is a full one, an absent budget is re-seeded.
   */
  sweep(): number;
}

/** A bucket below full: level in units (see BUCKET_UNITS_PER_TOKEN) as of `at`, full at `fullAt`. */
interface BucketEntry {
  level: number;
  at: number;
  fullAt: number;
}

/** Lease id → expiry; `nextExpiry` lets a look skip the scan until some lease may have expired. */
interface LeaseEntry {
  readonly leases: Map<string, number>;
  nextExpiry: number;
}

interface BudgetEntry {
  spent: number;
  reserved: number;
  readonly expiresAt: number;
}

/**
 * Limit counters for a single gateway process. Admission is all-or-nothing without locks: each
 * call checks and takes synchronously, so no other call runs in between. Plain Maps, no timer
 * per request; stale state is dropped lazily and by one unref'd sweep timer.
 */
export function createMemoryLimitCounters(
  options: MemoryLimitCountersOptions = {},
): MemoryLimitCounters {
  const buckets = new Map<string, BucketEntry>();
  const leaseSets = new Map<string, LeaseEntry>();
  const budgets = new Map<string, BudgetEntry>();
  let latestNow = 0;

  function levelOf(key: string, limit: number, now: number): number {
    const entry = buckets.get(key);
    return entry === undefined
      ? limit * BUCKET_UNITS_PER_TOKEN
      : refilledLevel(entry.level, entry.at, limit, now);
  }

  function writeLevel(key: string, limit: number, level: number, now: number): void {
    // A full bucket and an absent one are the same: keep only those below full.
    if (level >= limit * BUCKET_UNITS_PER_TOKEN) {
      buckets.delete(key);
      return;
    }
    const entry = buckets.get(key);
    const at = entry !== undefined && entry.at > now ? entry.at : now;
    const fullAt = at + bucketResetMs(level, limit);
    if (entry === undefined) buckets.set(key, { level, at, fullAt });
    else {
      entry.level = level;
      entry.at = at;
      entry.fullAt = fullAt;
    }
  }

  /** The key's lease set with expired leases dropped, or undefined. */
  function liveLeases(key: string, now: number): LeaseEntry | undefined {
    const entry = leaseSets.get(key);
    if (entry !== undefined && now >= entry.nextExpiry) pruneLeases(entry, now);
    return entry;
  }

  function activeLeases(key: string, leaseId: string | undefined, now: number): number {
    const entry = liveLeases(key, now);
    if (entry === undefined) return 0;
    // The request's own live lease (a re-admission) does not count against it.
    const held = leaseId !== undefined && entry.leases.has(leaseId);
    return entry.leases.size - (held ? 1 : 0);
  }

  function liveBudget(key: string, now: number): BudgetEntry | undefined {
    const entry = budgets.get(key);
    if (entry === undefined || entry.expiresAt > now) return entry;
    budgets.delete(key);
    return undefined;
  }

  function passes(check: LimitCheck, now: number): boolean {
    if (check.kind === 'bucket') {
      return levelOf(check.key, check.limit, now) >= check.cost * BUCKET_UNITS_PER_TOKEN;
    }
    if (check.kind === 'concurrency') {
      return activeLeases(check.key, check.leaseId, now) < check.max;
    }
    const entry = liveBudget(check.key, now);
    const used = entry === undefined ? check.seed : entry.spent + entry.reserved;
    return used + check.amount <= check.limit;
  }

  function take(check: LimitCheck, now: number): void {
    if (check.kind === 'bucket') {
      const level = levelOf(check.key, check.limit, now);
      writeLevel(check.key, check.limit, level - check.cost * BUCKET_UNITS_PER_TOKEN, now);
    } else if (check.kind === 'concurrency') {
      const expiresAt = now + (check.ttlMs ?? DEFAULT_LEASE_TTL_MS);
      const entry = leaseSets.get(check.key);
      if (entry === undefined) {
        leaseSets.set(check.key, {
          leases: new Map([[check.leaseId, expiresAt]]),
          nextExpiry: expiresAt,
        });
      } else {
        entry.leases.set(check.leaseId, expiresAt);
        if (expiresAt < entry.nextExpiry) entry.nextExpiry = expiresAt;
      }
    } else {
      const entry = liveBudget(check.key, now);
      if (entry !== undefined) entry.reserved += check.amount;
      else {
        const expiresAt = check.ttlMs === null ? Number.POSITIVE_INFINITY : now + check.ttlMs;
        budgets.set(check.key, { spent: check.seed, reserved: check.amount, expiresAt });
      }
    }
  }

  function outcome(check: LimitCheck, passed: boolean, now: number): CheckOutcome {
    if (check.kind === 'bucket') {
      return bucketOutcome(check, levelOf(check.key, check.limit, now), passed);
    }
    if (check.kind === 'concurrency') {
      // After a take the request's own lease is live, so it is counted here.
      const active = activeLeases(check.key, undefined, now);
      return concurrencyOutcome(check.key, check.max, active, passed);
    }
    const entry = liveBudget(check.key, now);
    return entry === undefined
      ? budgetOutcome(check.key, check.limit, check.seed, 0, passed)
      : budgetOutcome(check.key, check.limit, entry.spent, entry.reserved, passed);
  }

  function stateOf(probe: LimitProbe, now: number): LimitState {
    if (probe.kind === 'bucket') {
      return bucketState(probe.key, probe.limit, levelOf(probe.key, probe.limit, now));
    }
    if (probe.kind === 'concurrency') {
      return concurrencyState(probe.key, probe.max, activeLeases(probe.key, undefined, now));
    }
    const entry = liveBudget(probe.key, now);
    return entry === undefined
      ? budgetState(probe.key, probe.limit, probe.seed, 0)
      : budgetState(probe.key, probe.limit, entry.spent, entry.reserved);
  }

  function settleOne(settlement: Settlement, now: number): void {
    if (settlement.kind === 'bucket') {
      const { key, limit, delta } = settlement;
      const capacity = limit * BUCKET_UNITS_PER_TOKEN;
      const level = levelOf(key, limit, now) - delta * BUCKET_UNITS_PER_TOKEN;
      writeLevel(key, limit, Math.min(level, capacity), now);
    } else if (settlement.kind === 'concurrency') {
      const entry = leaseSets.get(settlement.key);
      if (entry?.leases.delete(settlement.leaseId) && entry.leases.size === 0) {
        leaseSets.delete(settlement.key);
      }
    } else {
      const entry = liveBudget(settlement.key, now);
      if (entry === undefined) return;
      const reserved = entry.reserved - settlement.reserved;
      entry.reserved = Math.max(reserved, 0);
      entry.spent += settlement.actual;
    }
  }

  function observe(now: number): void {
    if (now > latestNow) latestNow = now;
  }

  function sweep(): number {
    const before = buckets.size + leaseSets.size + budgets.size;
    for (const [key, entry] of buckets) if (entry.fullAt <= latestNow) buckets.delete(key);
    for (const [key, entry] of leaseSets) {
      if (latestNow >= entry.nextExpiry) pruneLeases(entry, latestNow);
      if (entry.leases.size === 0) leaseSets.delete(key);
    }
    for (const [key, entry] of budgets) if (entry.expiresAt <= latestNow) budgets.delete(key);
    return before - (buckets.size + leaseSets.size + budgets.size);
  }

  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  const timer = sweepIntervalMs > 0 ? setInterval(sweep, sweepIntervalMs).unref() : undefined;

  return {
    async admit(checks: readonly LimitCheck[], now: number): Promise<AdmitResult> {
      assertValidChecks(checks, now);
      observe(now);
      const ok = checks.every((check) => passes(check, now));
      if (ok) for (const check of checks) take(check, now);
      // Refused: nothing was taken, and each check's own verdict is looked at once more.
      return admitResult(checks.map((check) => outcome(check, ok || passes(check, now), now)));
    },
    async settle(settlements: readonly Settlement[], now: number): Promise<void> {
      assertValidSettlements(settlements, now);
      observe(now);
      for (const settlement of settlements) settleOne(settlement, now);
    },
    async peek(probes: readonly LimitProbe[], now: number): Promise<LimitState[]> {
      assertValidChecks(probes, now);
      observe(now);
      return probes.map((probe) => stateOf(probe, now));
    },
    sweep,
    async close(): Promise<void> {
      if (timer !== undefined) clearInterval(timer);
    },
  };
}

function pruneLeases(entry: LeaseEntry, now: number): void {
  let nextExpiry = Number.POSITIVE_INFINITY;
  for (const [leaseId, expiresAt] of entry.leases) {
    if (expiresAt <= now) entry.leases.delete(leaseId);
    else if (expiresAt < nextExpiry) nextExpiry = expiresAt;
  }
  entry.nextExpiry = nextExpiry;
}
