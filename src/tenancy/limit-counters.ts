/**
 * The limit counters a request is admitted against (rate buckets, concurrency leases, budgets):
 * the one interface, its types, and the pure arithmetic both implementations share. The memory
 * and Redis implementations keep the same state with the same semantics; one conformance suite
 * (`limit-counters.test.ts`) holds them to it.
 *
 * Time is always the caller's `now` (epoch ms), never a store's clock: every instance of the
 * gateway is assumed to run with its clock in sync (NTP), and tests drive time by hand. A `now`
 * behind what a counter last saw (a lagging instance) refills nothing and never rewinds it.
 *
 * Past ~300 lines because everything both implementations must agree on (types, reporting
 * arithmetic, input checks) lives here once.
 */

/**
 * A token bucket's level is kept in 1/60 000ths of a token, so that refilling `limit` tokens per
 * minute adds exactly `limit` units per ms and all bucket arithmetic stays in integers: no float
 * drift can admit a token too many or refuse a request that fits.
 */
export const BUCKET_UNITS_PER_TOKEN = 60_000;

/** How long a concurrency lease lives when the check names no `ttlMs`: 15 minutes. */
export const DEFAULT_LEASE_TTL_MS = 15 * 60_000;

/**
 * The largest bucket limit, cost or settle delta accepted (tokens). Keeps a level in units far
 * below 2^53, where doubles (JavaScript's and Redis Lua's) still hold integers exactly.
 */
export const MAX_BUCKET_TOKENS = 1_000_000_000;

/**
 * One check of an admission.
 * - `bucket`: a token bucket of `limit` per minute (capacity `limit`, starts full); passes when
 *   it holds at least `cost`, which is then taken. Requests per minute use cost 1, tokens per
 *   minute the request's token estimate.
 * - `concurrency`: passes when fewer than `max` leases are live; then takes lease `leaseId`
 *   (the request id) for `ttlMs` (default {@link DEFAULT_LEASE_TTL_MS}), so a crashed instance
 *   cannot hold a slot for ever. Re-admitting a live lease does not count it twice.
 * - `budget`: integer units (nano-USD or tokens); passes when `spent + reserved + amount <= limit`,
 *   then reserves `amount`. A counter that does not exist yet starts with `spent = seed` (what
 *   the database recorded for the period) and is authoritative from then on; it expires `ttlMs`
 *   after it was seeded (`null`: never).
 *
 * Keys are opaque strings built by the caller (`key:<id>:rpm`), one counter each: the keys of one
 * admission must be distinct, and a key must always be used with the same kind.
 */
export type LimitCheck = BucketCheck | ConcurrencyCheck | BudgetCheck;

/** A token-bucket check: see {@link LimitCheck}. */
export interface BucketCheck {
  readonly kind: 'bucket';
  readonly key: string;
  readonly limit: number;
  readonly cost: number;
}

/** A concurrency check: see {@link LimitCheck}. */
export interface ConcurrencyCheck {
  readonly kind: 'concurrency';
  readonly key: string;
  readonly max: number;
  readonly leaseId: string;
  readonly ttlMs?: number;
}

/** A budget check: see {@link LimitCheck}. */
export interface BudgetCheck {
  readonly kind: 'budget';
  readonly key: string;
  readonly limit: number;
  readonly amount: number;
  readonly seed: number;
  readonly ttlMs: number | null;
}

/** What {@link LimitCounters.peek} asks about: a check without anything to take. */
export type LimitProbe =
  | { readonly kind: 'bucket'; readonly key: string; readonly limit: number }
  | { readonly kind: 'concurrency'; readonly key: string; readonly max: number }
  | {
      readonly kind: 'budget';
      readonly key: string;
      readonly limit: number;
      readonly seed: number;
    };

/** A bucket's state: whole tokens left (floor, never below 0) and ms until full again (ceil). */
export interface BucketState {
  readonly kind: 'bucket';
  readonly key: string;
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
}

/** A concurrency counter's state: live leases, and free slots (`limit` is the check's `max`). */
export interface ConcurrencyState {
  readonly kind: 'concurrency';
  readonly key: string;
  readonly limit: number;
  readonly active: number;
  readonly remaining: number;
}

/** A budget counter's state, in the caller's units; `remaining` is never below 0. */
export interface BudgetState {
  readonly kind: 'budget';
  readonly key: string;
  readonly limit: number;
  readonly spent: number;
  readonly reserved: number;
  readonly remaining: number;
}

/** The state of one counter, as {@link LimitCounters.peek} reports it. */
export type LimitState = BucketState | ConcurrencyState | BudgetState;

/**
 * One check's outcome: the counter's state after the admission (after the take when the whole
 * admission passed, untouched when it did not), and whether this check on its own passed.
 */
export type CheckOutcome = BucketOutcome | ConcurrencyOutcome | BudgetOutcome;

/**
 * A bucket check's outcome. When refused, `retryAfterMs` is the wait until `cost` fits. A cost
 * above the capacity never fits: then `never` is true and `retryAfterMs` is `resetMs`, a finite
 * stand-in (no Infinity reaches a header or JSON). 0 when the check passed.
 */
export interface BucketOutcome extends BucketState {
  readonly passed: boolean;
  readonly retryAfterMs: number;
  readonly never: boolean;
}

/** A concurrency check's outcome: see {@link CheckOutcome}. */
export interface ConcurrencyOutcome extends ConcurrencyState {
  readonly passed: boolean;
}

/** A budget check's outcome: see {@link CheckOutcome}. */
export interface BudgetOutcome extends BudgetState {
  readonly passed: boolean;
}

/**
 * An admission: all checks passed and everything was taken, or nothing was taken. `outcomes` has
 * one entry per check, in order. On refusal, `failed` is the index of the first refused check and
 * `retryAfterMs` the wait after which every refused check would pass, when waiting is enough:
 * null when a refused check is a concurrency slot (frees when a request ends), a budget (frees
 * when the period rolls over or reservations settle lower), or a bucket whose cost never fits.
 */
export type AdmitResult =
  | { readonly ok: true; readonly outcomes: readonly CheckOutcome[] }
  | {
      readonly ok: false;
      readonly failed: number;
      readonly retryAfterMs: number | null;
      readonly outcomes: readonly CheckOutcome[];
    };

/**
 * What happens after a request, one per admitted check.
 * - `bucket`: adds `delta` tokens of use (actual − estimate; negative refunds, capped at the
 *   capacity; positive may drive the level below 0, to refill from there). Use `-cost` to undo.
 * - `concurrency`: releases the lease; releasing twice, or an expired lease, is harmless.
 * - `budget`: `reserved -= reserved` (never below 0), `spent += actual` (may exceed the
 *   reservation). A counter that no longer exists (expired, evicted) is left alone: the spend is
 *   in the database, and the next check seeds the counter from there.
 */
export type Settlement =
  | {
      readonly kind: 'bucket';
      readonly key: string;
      readonly limit: number;
      readonly delta: number;
    }
  | { readonly kind: 'concurrency'; readonly key: string; readonly leaseId: string }
  | {
      readonly kind: 'budget';
      readonly key: string;
      readonly reserved: number;
      readonly actual: number;
    };

/** The limit counters, in memory or in Redis: same semantics, chosen at start. */
export interface LimitCounters {
  /** Runs every check; takes from all of them only when all pass (see {@link AdmitResult}). */
  admit(checks: readonly LimitCheck[], now: number): Promise<AdmitResult>;
  /** Applies what a request really used and releases what it held (see {@link Settlement}). */
  settle(settlements: readonly Settlement[], now: number): Promise<void>;
  /** The counters' state without taking anything, one per probe in order (headers, GET /v1/key). */
  peek(probes: readonly LimitProbe[], now: number): Promise<LimitState[]>;
  /** Stops background work; a caller-owned connection stays open. */
  close(): Promise<void>;
}

/** A bucket's level (units) at `now`, refilled from `level` last written at `at`, capped. */
export function refilledLevel(level: number, at: number, limit: number, now: number): number {
  const refilled = now > at ? level + (now - at) * limit : level;
  const capacity = limit * BUCKET_UNITS_PER_TOKEN;
  return Math.min(refilled, capacity);
}

/** Ms until a bucket at `level` (units) is full again; 0 when a zero limit never refills. */
export function bucketResetMs(level: number, limit: number): number {
  return limit > 0 ? Math.ceil((limit * BUCKET_UNITS_PER_TOKEN - level) / limit) : 0;
}

/*
 * The reports are built as plain object literals, never `{ ...state, passed }`: on Node 20's V8 a
 * spread followed by more properties takes a slow path, about 1 µs per object, which made an
 * in-memory admission of 7 checks cost 20 µs instead of 2.
 */

/** A bucket's reported state at `level` (units). */
export function bucketState(key: string, limit: number, level: number): BucketState {
  return {
    kind: 'bucket',
    key,
    limit,
    remaining: wholeTokens(level),
    resetMs: bucketResetMs(level, limit),
  };
}

/** A bucket check's outcome at `level` (units, after the take when it was made). */
export function bucketOutcome(check: BucketCheck, level: number, passed: boolean): BucketOutcome {
  const { key, limit, cost } = check;
  const resetMs = bucketResetMs(level, limit);
  const never = !passed && (cost > limit || limit === 0);
  let retryAfterMs = 0;
  if (never) retryAfterMs = resetMs;
  else if (!passed) retryAfterMs = Math.ceil((cost * BUCKET_UNITS_PER_TOKEN - level) / limit);
  const remaining = wholeTokens(level);
  return { kind: 'bucket', key, limit, remaining, resetMs, passed, retryAfterMs, never };
}

function wholeTokens(level: number): number {
  return Math.max(Math.floor(level / BUCKET_UNITS_PER_TOKEN), 0);
}

/** A concurrency counter's reported state. */
export function concurrencyState(key: string, max: number, active: number): ConcurrencyState {
  return { kind: 'concurrency', key, limit: max, active, remaining: Math.max(max - active, 0) };
}

/** A concurrency check's outcome. */
export function concurrencyOutcome(
  key: string,
  max: number,
  active: number,
  passed: boolean,
): ConcurrencyOutcome {
  const remaining = Math.max(max - active, 0);
  return { kind: 'concurrency', key, limit: max, active, remaining, passed };
}

/** A budget's reported state. */
export function budgetState(
  key: string,
  limit: number,
  spent: number,
  reserved: number,
): BudgetState {
  const remaining = Math.max(limit - spent - reserved, 0);
  return { kind: 'budget', key, limit, spent, reserved, remaining };
}

/** A budget check's outcome. */
export function budgetOutcome(
  key: string,
  limit: number,
  spent: number,
  reserved: number,
  passed: boolean,
): BudgetOutcome {
  const remaining = Math.max(limit - spent - reserved, 0);
  return { kind: 'budget', key, limit, spent, reserved, remaining, passed };
}

/** The admission the outcomes add up to: see {@link AdmitResult}. */
export function admitResult(outcomes: readonly CheckOutcome[]): AdmitResult {
  let failed = -1;
  let retryAfterMs: number | null = 0;
  for (let index = 0; index < outcomes.length; index++) {
    const outcome = outcomes[index] as CheckOutcome;
    if (outcome.passed) continue;
    if (failed < 0) failed = index;
    if (outcome.kind !== 'bucket' || outcome.never) retryAfterMs = null;
    else if (retryAfterMs !== null && outcome.retryAfterMs > retryAfterMs) {
      retryAfterMs = outcome.retryAfterMs;
    }
  }
  return failed < 0 ? { ok: true, outcomes } : { ok: false, failed, retryAfterMs, outcomes };
}

/**
 * Throws a RangeError unless `now` and every check are well-formed: whole numbers in range (the
 * arithmetic is exact only on integers) and distinct keys (each check is evaluated against the
 * state before the admission, so a key twice would be taken twice on one look).
 */
export function assertValidChecks(checks: readonly (LimitCheck | LimitProbe)[], now: number): void {
  assertInteger(now, 0, Number.MAX_SAFE_INTEGER, 'now');
  for (let index = 0; index < checks.length; index++) {
    const check = checks[index] as LimitCheck | LimitProbe;
    assertKey(check.key);
    for (let earlier = 0; earlier < index; earlier++) {
      if ((checks[earlier] as LimitCheck).key === check.key) {
        throw new RangeError(`limit check key ${check.key} appears twice`);
      }
    }
    if (check.kind === 'bucket') {
      assertInteger(check.limit, 0, MAX_BUCKET_TOKENS, 'bucket limit');
      if ('cost' in check) assertInteger(check.cost, 0, MAX_BUCKET_TOKENS, 'bucket cost');
    } else if (check.kind === 'concurrency') {
      assertInteger(check.max, 0, Number.MAX_SAFE_INTEGER, 'concurrency max');
      if ('leaseId' in check) {
        assertKey(check.leaseId);
        if (check.ttlMs !== undefined) assertInteger(check.ttlMs, 1, MAX_TTL_MS, 'lease ttlMs');
      }
    } else {
      assertInteger(check.limit, 0, Number.MAX_SAFE_INTEGER, 'budget limit');
      assertInteger(check.seed, 0, Number.MAX_SAFE_INTEGER, 'budget seed');
      if ('amount' in check) {
        assertInteger(check.amount, 0, Number.MAX_SAFE_INTEGER, 'budget amount');
        if (check.ttlMs !== null) assertInteger(check.ttlMs, 1, MAX_TTL_MS, 'budget ttlMs');
      }
    }
  }
}

/** Throws a RangeError unless `now` and every settlement are well-formed (see assertValidChecks). */
export function assertValidSettlements(settlements: readonly Settlement[], now: number): void {
  assertInteger(now, 0, Number.MAX_SAFE_INTEGER, 'now');
  for (const settlement of settlements) {
    assertKey(settlement.key);
    if (settlement.kind === 'bucket') {
      assertInteger(settlement.limit, 0, MAX_BUCKET_TOKENS, 'bucket limit');
      assertInteger(settlement.delta, -MAX_BUCKET_TOKENS, MAX_BUCKET_TOKENS, 'bucket delta');
    } else if (settlement.kind === 'concurrency') {
      assertKey(settlement.leaseId);
    } else {
      assertInteger(settlement.reserved, 0, Number.MAX_SAFE_INTEGER, 'budget reserved');
      assertInteger(settlement.actual, 0, Number.MAX_SAFE_INTEGER, 'budget actual');
    }
  }
}

/** A year: longer TTLs are a unit mistake (seconds for ms), and `now + ttl` must stay exact. */
const MAX_TTL_MS = 366 * 24 * 60 * 60_000;

function assertInteger(value: number, min: number, max: number, name: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}

function assertKey(value: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RangeError('limit counter keys and lease ids must be non-empty strings');
  }
}
