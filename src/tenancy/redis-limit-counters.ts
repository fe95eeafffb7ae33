import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type AdmitResult,
  admitResult,
  assertValidChecks,
  assertValidSettlements,
  BUCKET_UNITS_PER_TOKEN,
  bucketOutcome,
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
  type Settlement,
} from './limit-counters.js';

/** Options of {@link createRedisLimitCounters}. */
export interface RedisLimitCountersOptions {
  /** An ioredis client owned by the caller, who also closes it. */
  readonly redis: Redis;
  /**
   * Prepended to every key (`aigw:limits:`). An admission's keys are one script's keys, so on a
   * Redis Cluster the prefix must be a hash tag (`{aigw}:limits:`) to put them in one slot.
   */
  readonly prefix: string;
}

/**
 * Shared by both scripts. State is stored in the caller's clock (`now`, ARGV): bucket hashes
 * {level, at}, with the level in integer units (see BUCKET_UNITS_PER_TOKEN) written as decimal
 * strings; lease sorted sets scored by expiry; budget hashes {spent, reserved, expires?} in integer
 * units. Redis's own clock only drives PEXPIRE, which collects keys that no longer matter (with a
 * minute of slack for clock skew) and never decides an answer. Numbers are formatted with '%.0f'
 * before going back to Redis: a Lua number passed as is may come out as '1e+15'.
 */
const PRELUDE = `
local UNITS = ${BUCKET_UNITS_PER_TOKEN}
local SLACK = 60000
local now = tonumber(ARGV[1])
local function int(x) return string.format('%.0f', x) end

local function bucket(key, limit)
  local capacity = limit * UNITS
  local stored = redis.call('HMGET', key, 'level', 'at')
  if not stored[1] then return capacity, now end
  local level, at = tonumber(stored[1]), tonumber(stored[2])
  if now > at then level = level + (now - at) * limit; at = now end
  if level > capacity then level = capacity end
  return level, at
end

local function write_bucket(key, limit, level, at)
  local capacity = limit * UNITS
  if level >= capacity then redis.call('DEL', key); return end
  redis.call('HSET', key, 'level', int(level), 'at', int(at))
  local reset = 0
  if limit > 0 then reset = math.ceil((capacity - level) / limit) end
  redis.call('PEXPIRE', key, int(reset + SLACK))
end

local function budget(key)
  local stored = redis.call('HMGET', key, 'spent', 'reserved', 'expires')
  if not stored[1] or (stored[3] and tonumber(stored[3]) <= now) then return nil end
  return tonumber(stored[1]), tonumber(stored[2])
end
`;

/**
 * ARGV: now, mode ('admit' | 'peek'), then 5 per check: kind, then bucket: limit, cost;
 * concurrency: max, lease id, ttl; budget: limit, amount, seed, ttl ('' = none). Evaluates every
 * check without writing, then, only when all passed and the mode is 'admit', takes from all.
 * Replies {ok, then per check: passed, a, b}: bucket level, -; active leases, -; spent, reserved.
 */
const ADMIT_SCRIPT = `${PRELUDE}
local take = ARGV[2] == 'admit'
local passed, first, second, held = {}, {}, {}, {}
local ok = true
for i = 1, #KEYS do
  local key, base = KEYS[i], 2 + (i - 1) * 5
  local kind = ARGV[base + 1]
  if kind == 'bucket' then
    first[i], second[i] = bucket(key, tonumber(ARGV[base + 2]))
    passed[i] = first[i] >= tonumber(ARGV[base + 3]) * UNITS
  elseif kind == 'concurrency' then
    first[i] = redis.call('ZCOUNT', key, '(' .. int(now), '+inf')
    local own = redis.call('ZSCORE', key, ARGV[base + 3])
    -- The request's own live lease (a re-admission) does not count against it.
    held[i] = own ~= false and tonumber(own) > now
    passed[i] = first[i] - (held[i] and 1 or 0) < tonumber(ARGV[base + 2])
  else
    local spent, reserved = budget(key)
    if not spent then spent, reserved = tonumber(ARGV[base + 4]), false end
    first[i], second[i] = spent, reserved
    passed[i] = spent + (reserved or 0) + tonumber(ARGV[base + 3]) <= tonumber(ARGV[base + 2])
  end
  ok = ok and passed[i]
end
if take and ok then
  for i = 1, #KEYS do
    local key, base = KEYS[i], 2 + (i - 1) * 5
    local kind = ARGV[base + 1]
    if kind == 'bucket' then
      local limit = tonumber(ARGV[base + 2])
      first[i] = first[i] - tonumber(ARGV[base + 3]) * UNITS
      write_bucket(key, limit, first[i], second[i])
    elseif kind == 'concurrency' then
      local ttl = tonumber(ARGV[base + 4])
      redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now))
      redis.call('ZADD', key, int(now + ttl), ARGV[base + 3])
      if redis.call('PTTL', key) < ttl + SLACK then redis.call('PEXPIRE', key, int(ttl + SLACK)) end
      if not held[i] then first[i] = first[i] + 1 end
    else
      local amount = tonumber(ARGV[base + 3])
      if second[i] then
        redis.call('HINCRBY', key, 'reserved', int(amount))
        second[i] = second[i] + amount
      else
        -- Absent or expired: seeded once from the database's figure, authoritative from now on.
        redis.call('DEL', key)
        redis.call('HSET', key, 'spent', int(first[i]), 'reserved', int(amount))
        if ARGV[base + 5] ~= '' then
          local ttl = tonumber(ARGV[base + 5])
          redis.call('HSET', key, 'expires', int(now + ttl))
          redis.call('PEXPIRE', key, int(ttl + SLACK))
        end
        second[i] = amount
      end
    end
  end
end
local reply = { ok and 1 or 0 }
for i = 1, #KEYS do
  reply[#reply + 1] = passed[i] and 1 or 0
  reply[#reply + 1] = first[i]
  reply[#reply + 1] = second[i] or 0
end
return reply
`;

/**
 * ARGV: now, then 3 per settlement: kind, then bucket: limit, delta; concurrency: lease id, -;
 * budget: reserved, actual. Applied in order; a budget counter that is gone is left alone.
 */
const SETTLE_SCRIPT = `${PRELUDE}
for i = 1, #KEYS do
  local key, base = KEYS[i], 1 + (i - 1) * 3
  local kind = ARGV[base + 1]
  if kind == 'bucket' then
    local limit = tonumber(ARGV[base + 2])
    local level, at = bucket(key, limit)
    level = level - tonumber(ARGV[base + 3]) * UNITS
    if level > limit * UNITS then level = limit * UNITS end
    write_bucket(key, limit, level, at)
  elseif kind == 'concurrency' then
    redis.call('ZREM', key, ARGV[base + 2])
  else
    local spent, reserved = budget(key)
    if spent then
      reserved = reserved - tonumber(ARGV[base + 2])
      if reserved < 0 then reserved = 0 end
      spent = spent + tonumber(ARGV[base + 3])
      redis.call('HSET', key, 'spent', int(spent), 'reserved', int(reserved))
    end
  end
end
return 0
`;

interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const ADMIT = luaScript(ADMIT_SCRIPT);
const SETTLE = luaScript(SETTLE_SCRIPT);

/**
 * Limit counters shared by every gateway instance through one Redis. An admission, a settlement
 * or a peek is one script run (EVALSHA, one round trip), atomic in Redis, so instances racing for
 * the last token cannot both get it. Scripts are run by their SHA and sent in full only when Redis
 * does not know them (first use, or after a restart), rather than through ioredis's
 * `defineCommand`, which would add untyped methods to a client the caller owns. A call rejects
 * when Redis cannot be reached; whether a request then passes (fail open) is the caller's call.
 */
export function createRedisLimitCounters(options: RedisLimitCountersOptions): LimitCounters {
  const { redis, prefix } = options;

  async function run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    const keysAndArgs = [...keys, ...args];
    try {
      return await redis.evalsha(script.sha, keys.length, ...keysAndArgs);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return redis.eval(script.source, keys.length, ...keysAndArgs);
    }
  }

  /** Runs the admit script; the reply is {ok, then passed, a, b per check}. */
  async function evaluate(
    checks: readonly (LimitCheck | LimitProbe)[],
    mode: 'admit' | 'peek',
    now: number,
  ): Promise<number[]> {
    const keys: string[] = [];
    const args = [String(now), mode];
    for (const check of checks) {
      keys.push(prefix + check.key);
      if (check.kind === 'bucket') {
        args.push(
          'bucket',
          String(check.limit),
          'cost' in check ? String(check.cost) : '0',
          '',
          '',
        );
      } else if (check.kind === 'concurrency') {
        const leaseId = 'leaseId' in check ? check.leaseId : '';
        const ttlMs = 'leaseId' in check ? (check.ttlMs ?? DEFAULT_LEASE_TTL_MS) : 0;
        args.push('concurrency', String(check.max), leaseId, String(ttlMs), '');
      } else {
        const amount = 'amount' in check ? String(check.amount) : '0';
        const ttlMs = 'amount' in check && check.ttlMs !== null ? String(check.ttlMs) : '';
        args.push('budget', String(check.limit), amount, String(check.seed), ttlMs);
      }
    }
    return (await run(ADMIT, keys, args)) as number[];
  }

  return {
    async admit(checks: readonly LimitCheck[], now: number): Promise<AdmitResult> {
      assertValidChecks(checks, now);
      if (checks.length === 0) return admitResult([]);
      const reply = await evaluate(checks, 'admit', now);
      return admitResult(
        checks.map((check, index): CheckOutcome => {
          const passed = reply[1 + index * 3] === 1;
          const first = reply[2 + index * 3] as number;
          const second = reply[3 + index * 3] as number;
          if (check.kind === 'bucket') return bucketOutcome(check, first, passed);
          if (check.kind === 'concurrency') {
            return concurrencyOutcome(check.key, check.max, first, passed);
          }
          return budgetOutcome(check.key, check.limit, first, second, passed);
        }),
      );
    },

    async settle(settlements: readonly Settlement[], now: number): Promise<void> {
      assertValidSettlements(settlements, now);
      if (settlements.length === 0) return;
      const keys: string[] = [];
      const args = [String(now)];
      for (const settlement of settlements) {
        keys.push(prefix + settlement.key);
        if (settlement.kind === 'bucket') {
          args.push('bucket', String(settlement.limit), String(settlement.delta));
        } else if (settlement.kind === 'concurrency') {
          args.push('concurrency', settlement.leaseId, '');
        } else {
          args.push('budget', String(settlement.reserved), String(settlement.actual));
        }
      }
      await run(SETTLE, keys, args);
    },

    async peek(probes: readonly LimitProbe[], now: number): Promise<LimitState[]> {
      assertValidChecks(probes, now);
      if (probes.length === 0) return [];
      const reply = await evaluate(probes, 'peek', now);
      return probes.map((probe, index): LimitState => {
        const first = reply[2 + index * 3] as number;
        const second = reply[3 + index * 3] as number;
        if (probe.kind === 'bucket') return bucketState(probe.key, probe.limit, first);
        if (probe.kind === 'concurrency') return concurrencyState(probe.key, probe.max, first);
        return budgetState(probe.key, probe.limit, first, second);
      });
    },

    async close(): Promise<void> {
      // Nothing to stop: the connection is the caller's.
    },
  };
}
