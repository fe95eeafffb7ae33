import { StoreUnavailableError } from '../errors/gateway-error.js';
import type { ProviderLogger } from '../providers/provider.js';
import type { KeyRecord, TeamRecord, TenancyStore } from '../store/tenancy-store.js';
import { periodWindow } from './budget-period.js';
import { hashKeySecret } from './key-secret.js';

/** What the database had recorded as spent in one budget period when a key was loaded. */
export interface RecordedSpend {
  readonly periodId: string;
  /** USD in nano-dollars (the counters' integer unit). */
  readonly costNano: number;
  readonly tokens: number;
}

/** A virtual key as requests see it: its record, its team's, and their recorded spend. */
export interface Tenant {
  readonly key: KeyRecord;
  readonly team: TeamRecord | undefined;
  readonly keySpend: RecordedSpend | undefined;
  readonly teamSpend: RecordedSpend | undefined;
}

export interface KeyDirectoryOptions {
  readonly store: Pick<TenancyStore, 'findKeyByHash' | 'changedSince' | 'spent'>;
  readonly logger: ProviderLogger;
  readonly now: () => number;
  /** How often the store is asked what changed (revocations, new limits); 0: never. */
  readonly pollIntervalMs?: number;
  /** How long an unknown key is remembered as unknown. */
  readonly unknownTtlMs?: number;
}

export interface KeyDirectory {
  /**
   * The tenant of a virtual key's secret, undefined when no key has it. A key seen before answers
   * from memory at once, whatever the database's state; a new one is looked up, and a database
   * that cannot answer then is a StoreUnavailableError (503), never a 401.
   */
  find(secret: string): Tenant | undefined | Promise<Tenant | undefined>;
  /** Reloads these keys and every key of these teams (after a change here or elsewhere). */
  reload(changed: {
    readonly keyIds: readonly string[];
    readonly teamIds: readonly string[];
  }): Promise<void>;
  close(): void;
}

/** USD → the counters' integer nano-dollars. */
export function toNanoUsd(usd: number): number {
  return Math.round(usd * 1e9);
}

/** Most unknown secrets remembered at once; past it the memory starts over. */
const MAX_UNKNOWN = 10_000;

/**
 * Virtual keys by secret, in memory: the hot path is one Map lookup, with no hashing and no
 * database. Changes reach it in two ways: this instance's admin API reloads what it changed at
 * once, and a poll of the store (`changedSince`, every second by default) brings what other
 * instances and workers changed, so a revocation holds everywhere within about two seconds
 * without Redis or any broadcast. A reload that fails keeps the entry as it was.
 */
export function createKeyDirectory(options: KeyDirectoryOptions): KeyDirectory {
  const { store, logger, now } = options;
  const unknownTtlMs = options.unknownTtlMs ?? 1_000;
  const known = new Map<string, Tenant>();
  const secretsByKeyId = new Map<string, string>();
  const unknown = new Map<string, number>();
  const loading = new Map<string, Promise<Tenant | undefined>>();

  const spendOf = async (
    scope: { readonly keyId: string } | { readonly teamId: string },
    limits: KeyRecord | TeamRecord,
  ): Promise<RecordedSpend | undefined> => {
    if (limits.budgetUsd === null && limits.budgetTokens === null) return undefined;
    // A budget without a period is a total one, as admission reads it.
    const window = periodWindow(limits.budgetPeriod ?? 'total', now());
    const spent = await store.spent(scope, window.start);
    return { periodId: window.id, costNano: toNanoUsd(spent.costUsd), tokens: spent.tokens };
  };

  const load = async (secret: string): Promise<Tenant | undefined> => {
    const found = await store.findKeyByHash(hashKeySecret(secret));
    if (found === undefined) return undefined;
    const { key, team } = found;
    const [keySpend, teamSpend] = await Promise.all([
      spendOf({ keyId: key.id }, key),
      team === undefined ? undefined : spendOf({ teamId: team.id }, team),
    ]);
    return { key, team, keySpend, teamSpend };
  };

  const remember = (secret: string, tenant: Tenant | undefined) => {
    if (tenant === undefined) {
      known.delete(secret);
      if (unknown.size >= MAX_UNKNOWN) unknown.clear();
      unknown.set(secret, now() + unknownTtlMs);
      return;
    }
    known.set(secret, tenant);
    secretsByKeyId.set(tenant.key.id, secret);
    unknown.delete(secret);
  };

  const lookUp = (secret: string): Promise<Tenant | undefined> => {
    let pending = loading.get(secret);
    if (pending === undefined) {
      pending = load(secret)
        .then((tenant) => {
          remember(secret, tenant);
          return tenant;
        })
        .catch((error: unknown) => {
          throw new StoreUnavailableError(error);
        })
        .finally(() => loading.delete(secret));
      loading.set(secret, pending);
    }
    return pending;
  };

  const reload: KeyDirectory['reload'] = async ({ keyIds, teamIds }) => {
    const secrets = new Set<string>();
    for (const id of keyIds) {
      const secret = secretsByKeyId.get(id);
      if (secret !== undefined) secrets.add(secret);
    }
    if (teamIds.length > 0) {
      const teams = new Set(teamIds);
      for (const [secret, tenant] of known) {
        if (tenant.key.teamId !== null && teams.has(tenant.key.teamId)) secrets.add(secret);
      }
    }
    await Promise.all(
      [...secrets].map(async (secret) => {
        try {
          remember(secret, await load(secret));
        } catch (error) {
          logger.warn({ err: error }, 'virtual key reload failed; keeping what is known');
        }
      }),
    );
  };

  let timer: NodeJS.Timeout | undefined;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  if (pollIntervalMs > 0) {
    // The window overlaps the previous one: a change written with a clock a little behind ours,
    // or committed while the last poll ran, is still seen. Reloading twice is harmless.
    let since = now();
    let polling = false;
    let failing = false;
    timer = setInterval(() => {
      if (polling) return;
      if (known.size === 0) {
        since = now();
        return;
      }
      polling = true;
      const started = now();
      store
        .changedSince(since - 2 * pollIntervalMs)
        .then(async (changed) => {
          since = started;
          failing = false;
          await reload(changed);
        })
        .catch((error: unknown) => {
          if (!failing) logger.warn({ err: error }, 'cannot poll the store for key changes');
          failing = true;
        })
        .finally(() => {
          polling = false;
        });
    }, pollIntervalMs);
    timer.unref();
  }

  return {
    find(secret) {
      const tenant = known.get(secret);
      if (tenant !== undefined) return tenant;
      const until = unknown.get(secret);
      if (until !== undefined && until > now()) return undefined;
      return lookUp(secret);
    },
    reload,
    close() {
      clearInterval(timer);
    },
  };
}
