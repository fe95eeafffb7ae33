import {
  type AdmitResult,
  assertValidChecks,
  assertValidSettlements,
  BUCKET_UNITS_PER_TOKEN,
  type BucketCheck,
  type BudgetCheck,
  bucketOutcome,
  bucketState,
  budgetOutcome,
  budgetState,
  type CheckOutcome,
  type LimitCheck,
  type LimitCounters,
  type LimitProbe,
  type LimitState,
  type Settlement,
} from './limit-counters.js';

/** Options of {@link createLeasedLimitCounters}. */
export interface LeasedLimitCountersOptions {
  /** The shared counters (Redis) that every lease is taken from and handed back to. */
  readonly shared: LimitCounters;
  readonly now: () => number;
  /**
   * Told when a background call to the shared counters failed: a hand-back (tried again on the
   * next tick) or a refill (the next admission that finds the lease empty asks itself).
   */
  readonly onError: (error: unknown) => void;
  /** How long a lease serves admissions before it is handed back; see below. */
  readonly maxAgeMs?: number;
}

/** A lease asks for this many more requests' worth of a check... */
const LEASE_REQUESTS = 8;
/** ...and only while the shared counter holds at least this many leases' worth. */
const HEADROOM_LEASES = 10;
const DEFAULT_MAX_AGE_MS = 2_000;
/** A counter not admitted against for this long is forgotten (its next admission takes no lease). */
const FORGET_AFTER_MS = 60_000;

/** What this instance holds of one shared bucket or budget counter. */
interface Lease {
  readonly kind: 'bucket' | 'budget';
  /** The limit it was taken under: a changed limit hands it back and starts anew. */
  readonly limit: number;
  readonly takenAt: number;
  /**
   * Units taken from the shared counter and not yet given to a request (tokens for a bucket,
   * budget units for a budget); never below 0.
   */
  pool: number;
  /** Budgets: what requests settled into this lease really spent, not yet told to the counter. */
  spent: number;
}

/** A shared counter's state as the last admission that went to it saw it. */
interface Seen {
  readonly outcome: CheckOutcome;
  readonly at: number;
}

/**
 * Limit counters in front of shared ones (Redis) that take small leases of a bucket or a budget
 * in one admission and then admit this instance's next requests from them without a round trip.
 * A lease is taken atomically with the admission that asks for it, so the shared counter never
 * hands out more than it has: leasing can refuse a request that would have fitted (another
 * instance holds what is left), never admit one too many. To keep that rare and small:
 * - a check is leased only while the shared counter holds at least {@link HEADROOM_LEASES} times
 *   the lease ({@link LEASE_REQUESTS} times the request's cost, or 1) as last seen; nearer its
 *   limit, every admission goes to the shared counter, exactly as without leases;
 * - an admission is served locally only when every one of its checks has a lease that covers it
 *   (concurrency slots are never leased: a request with one always goes to the shared counter);
 * - one lease of a counter is asked for at a time, by an admission or, once a lease is half
 *   spent, by a background refill: an instance holds 8 to 12 requests' worth at most, plus the
 *   refunds of its requests in flight;
 * - a lease serves admissions for `maxAgeMs` after it was taken and is then handed back (what
 *   is left of it, and the budget spend settled into it), so a bucket's tokens are used at most
 *   `maxAgeMs` after the shared counter gave them out, and a changed limit holds within that time.
 *
 * Settlements of bucket and budget checks go into a live lease of their counter when there is one
 * (refunds refill it), whichever way the request was admitted: every unit taken from the shared
 * counter is owned by a request or by a lease until it is settled or handed back, so nothing is
 * lost or counted twice. `peek` counts this instance's leases as free; other instances' as taken.
 */
export function createLeasedLimitCounters(options: LeasedLimitCountersOptions): LimitCounters {
  const { shared, now, onError } = options;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const leases = new Map<string, Lease>();
  const seen = new Map<string, Seen>();
  /** Hand-backs not yet accepted by the shared counters (they were unreachable). */
  let pending: Settlement[] = [];
  let handingBack: Promise<void> | undefined;
  /** Refills on their way, awaited by close so that none lands in a lease after it went back. */
  const refills = new Set<Promise<void>>();
  /**
   * Counters a lease is being asked for (with an admission or as a refill): one at a time each,
   * so that parallel requests finding a lease empty do not each take one.
   */
  const asking = new Set<string>();

  function handBack(key: string, lease: Lease): void {
    leases.delete(key);
    if (lease.kind === 'bucket') {
      // Tokens beyond a full bucket are worth nothing (the shared counter caps them too).
      const delta = -Math.min(lease.pool, lease.limit);
      if (delta !== 0) pending.push({ kind: 'bucket', key, limit: lease.limit, delta });
    } else if (lease.pool + lease.spent > 0) {
      pending.push({
        kind: 'budget',
        key,
        reserved: lease.pool + lease.spent,
        actual: lease.spent,
      });
    }
  }

  /** Hands back the leases past their age (or all) and retries what failed before. */
  function flush(all: boolean): Promise<void> {
    const time = now();
    for (const [key, lease] of leases) {
      if (all || time - lease.takenAt >= maxAgeMs) handBack(key, lease);
    }
    for (const [key, state] of seen) {
      if (time - state.at >= FORGET_AFTER_MS) seen.delete(key);
    }
    if (pending.length === 0 || handingBack !== undefined) return handingBack ?? Promise.resolve();
    const batch = pending;
    pending = [];
    handingBack = shared
      .settle(batch, time)
      .catch((error: unknown) => {
        pending = batch.concat(pending);
        onError(error);
      })
      .finally(() => {
        handingBack = undefined;
      });
    return handingBack;
  }

  const timer = setInterval(() => void flush(false), Math.max(1, Math.floor(maxAgeMs / 2)));
  timer.unref();

  /** The lease of `check` if it may serve it now: fresh, taken under the same limit, enough left. */
  function usableLease(check: LimitCheck, time: number): Lease | undefined {
    if (check.kind === 'concurrency') return undefined;
    const lease = leases.get(check.key);
    if (lease === undefined || lease.kind !== check.kind || time - lease.takenAt >= maxAgeMs) {
      return undefined;
    }
    if (lease.limit !== check.limit) {
      handBack(check.key, lease);
      return undefined;
    }
    return lease.pool >= costOf(check) ? lease : undefined;
  }

  function admitLocally(checks: readonly LimitCheck[], time: number): AdmitResult | undefined {
    const held: Lease[] = [];
    for (const check of checks) {
      const lease = usableLease(check, time);
      if (lease === undefined) return undefined;
      held.push(lease);
    }
    let low = false;
    const outcomes = checks.map((check, index) => {
      const lease = held[index] as Lease;
      const cost = costOf(check);
      lease.pool -= cost;
      if (lease.pool < (Math.max(cost, 1) * LEASE_REQUESTS) / 2) low = true;
      return report(check as BucketCheck | BudgetCheck, lease, seen.get(check.key)?.outcome);
    });
    if (low) refill(checks, time);
    return { ok: true, outcomes };
  }

  /**
   * Tops up the leases of an admission's checks in the background once one runs low, so that a
   * steady stream of requests rarely waits for the shared counter. All of them or none, like an
   * admission; nothing happens when one no longer has room for a lease.
   */
  function refill(checks: readonly LimitCheck[], time: number): void {
    const sizes = leaseSizes(checks);
    if (sizes === undefined || sizes.includes(0)) return;
    const asked = checks.map((check, index) => withCost(check, sizes[index] ?? 0));
    const done = askingFor(checks, sizes, () => shared.admit(asked, time))
      .then((result) => {
        remember(checks, result, sizes, time);
      })
      .catch(onError)
      .finally(() => refills.delete(done));
    refills.add(done);
  }

  /** Runs `call` with the counters of `checks` that ask for a lease (`sizes`) marked as asking. */
  async function askingFor<T>(
    checks: readonly LimitCheck[],
    sizes: readonly number[],
    call: () => Promise<T>,
  ): Promise<T> {
    const keys = checks.filter((_, index) => (sizes[index] ?? 0) > 0).map((check) => check.key);
    for (const key of keys) asking.add(key);
    try {
      return await call();
    } finally {
      for (const key of keys) asking.delete(key);
    }
  }

  /**
   * How much more than its cost each check asks the shared counter for (0: none), or undefined
   * when no check would take a lease.
   */
  function leaseSizes(checks: readonly LimitCheck[]): number[] | undefined {
    let any = false;
    const sizes: number[] = [];
    for (const check of checks) {
      if (check.kind === 'concurrency') return undefined;
      // A request that costs nothing (an unpriced model) still needs a lease to be served from:
      // one of a few units shows the counter was not spent.
      const size = Math.max(costOf(check), 1) * LEASE_REQUESTS;
      const last = seen.get(check.key)?.outcome;
      sizes.push(0);
      if (last === undefined || last.limit !== check.limit || asking.has(check.key)) continue;
      if (last.remaining < size * HEADROOM_LEASES) continue;
      sizes[sizes.length - 1] = size;
      any = true;
    }
    return any ? sizes : undefined;
  }

  /** Notes the shared counters' answer, and puts what was leased into the leases. */
  function remember(
    checks: readonly LimitCheck[],
    result: AdmitResult,
    sizes: readonly number[] | undefined,
    time: number,
  ): AdmitResult {
    const outcomes = checks.map((check, index) => {
      const outcome = result.outcomes[index] as CheckOutcome;
      if (check.kind === 'concurrency') return outcome;
      seen.set(check.key, { outcome, at: time });
      const size = sizes?.[index] ?? 0;
      if (!result.ok || size === 0) return outcome;
      let lease = leases.get(check.key);
      if (
        lease !== undefined &&
        (lease.limit !== check.limit || time - lease.takenAt >= maxAgeMs)
      ) {
        handBack(check.key, lease);
        lease = undefined;
      }
      if (lease === undefined) {
        lease = {
          kind: check.kind,
          limit: check.limit,
          takenAt: time,
          pool: 0,
          spent: 0,
        };
        leases.set(check.key, lease);
      }
      lease.pool += size;
      return report(check, lease, outcome);
    });
    return result.ok ? { ok: true, outcomes } : { ...result, outcomes };
  }

  return {
    async admit(checks, time) {
      assertValidChecks(checks, time);
      const local = admitLocally(checks, time);
      if (local !== undefined) return local;
      const sizes = leaseSizes(checks);
      if (sizes !== undefined) {
        const asked = checks.map((check, index) =>
          withCost(check, costOf(check) + (sizes[index] ?? 0)),
        );
        const leased = await askingFor(checks, sizes, () => shared.admit(asked, time));
        if (leased.ok) return remember(checks, leased, sizes, time);
        // The lease may be what did not fit: the request alone is asked for again.
      }
      return remember(checks, await shared.admit(checks, time), undefined, time);
    },

    async settle(settlements, time) {
      assertValidSettlements(settlements, time);
      const rest: Settlement[] = [];
      for (const settlement of settlements) {
        const lease = settlement.kind === 'concurrency' ? undefined : leases.get(settlement.key);
        // What a request used beyond its reservation goes to the shared counter at once, so that
        // it never sees less use than there was (a lease's pool never goes below 0).
        const change = lease === undefined ? 0 : poolChange(settlement);
        if (lease === undefined || lease.kind !== settlement.kind || lease.pool + change < 0) {
          rest.push(settlement);
          continue;
        }
        lease.pool += change;
        if (settlement.kind === 'budget') lease.spent += settlement.actual;
      }
      if (rest.length > 0) await shared.settle(rest, time);
    },

    /** The shared counters' state, with what this instance's own leases hold counted as free. */
    async peek(probes: readonly LimitProbe[], time: number): Promise<LimitState[]> {
      const states = await shared.peek(probes, time);
      return states.map((state) => {
        const lease = leases.get(state.key);
        if (lease === undefined || lease.pool === 0 || state.kind === 'concurrency') return state;
        if (state.kind === 'bucket') {
          const level =
            Math.min(state.remaining + lease.pool, state.limit) * BUCKET_UNITS_PER_TOKEN;
          return bucketState(state.key, state.limit, level);
        }
        const reserved = Math.max(state.reserved - lease.pool, 0);
        return budgetState(state.key, state.limit, state.spent, reserved);
      });
    },

    async close() {
      clearInterval(timer);
      await Promise.all(refills);
      await flush(true);
      // A hand-back that failed now is lost: its tokens refill, its budget units stay reserved
      // until the period ends, as a crashed instance's would.
      if (pending.length > 0) await flush(true);
      await shared.close();
    },
  };
}

function costOf(check: LimitCheck): number {
  if (check.kind === 'bucket') return check.cost;
  if (check.kind === 'budget') return check.amount;
  return 0;
}

/** What settling into a lease gives back to its pool (negative: what it takes). */
function poolChange(settlement: Settlement): number {
  if (settlement.kind === 'bucket') return -settlement.delta;
  if (settlement.kind === 'budget') return settlement.reserved - settlement.actual;
  return 0;
}

function withCost(check: LimitCheck, cost: number): LimitCheck {
  if (check.kind === 'bucket') return { ...check, cost };
  if (check.kind === 'budget') return { ...check, amount: cost };
  return check;
}

/**
 * A check's outcome as this instance sees it after taking from a lease: the shared counter's last
 * known state with what the lease still holds counted as this instance's.
 */
function report(
  check: BucketCheck | BudgetCheck,
  lease: Lease,
  last: CheckOutcome | undefined,
): CheckOutcome {
  const { pool } = lease;
  if (check.kind === 'bucket') {
    const remaining = Math.min((last?.remaining ?? 0) + pool, check.limit);
    return bucketOutcome(check, remaining * BUCKET_UNITS_PER_TOKEN, true);
  }
  const { spent, reserved } = last?.kind === 'budget' ? last : { spent: 0, reserved: 0 };
  return budgetOutcome(check.key, check.limit, spent, Math.max(reserved - pool, 0), true);
}
