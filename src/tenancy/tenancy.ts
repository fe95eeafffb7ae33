import { StoreUnavailableError } from '../errors/gateway-error.js';
import type { FinishedRequest, RequestObserver } from '../events/finished-request.js';
import type { ProviderLogger } from '../providers/provider.js';
import { randomBase62 } from '../store/store-records.js';
import type { LedgerRow } from '../store/tenancy-store.js';
import {
  type AdmissionOptions,
  type AdmissionOutcome,
  type AdmissionRequest,
  admit,
  settlements,
} from './admission.js';
import type { KeyDirectory, Tenant } from './key-directory.js';
import type { LedgerWriter } from './ledger-writer.js';
import type { LimitCounters } from './limit-counters.js';
import { costNano, type PriceTable } from './price-table.js';

export interface TenancyOptions extends AdmissionOptions {
  readonly directory: KeyDirectory;
  readonly ledger: LedgerWriter;
  readonly counters: LimitCounters;
  readonly prices: PriceTable;
  readonly logger: ProviderLogger;
  readonly now: () => number;
  /** Output tokens assumed for a request that sets no maximum. */
  readonly reserveMaxTokens: number;
  /** Told of tokens served by a deployment that has no price (they cost 0). */
  readonly onUnpriced?: (deployment: string) => void;
}

/** Teams and virtual keys as the HTTP layer uses them. */
export interface Tenancy {
  readonly directory: KeyDirectory;
  readonly counters: LimitCounters;
  readonly reserveMaxTokens: number;
  /** See {@link admit}. */
  admit(tenant: Tenant, request: AdmissionRequest): Promise<AdmissionOutcome>;
  /** Settles each admitted request's counters and writes its ledger row. */
  readonly recorder: RequestObserver;
}

export function createTenancy(options: TenancyOptions): Tenancy {
  const { counters, prices, logger, now, ledger } = options;
  // Row ids: this process's random name and a counter, not random bytes per row (measurably
  // cheaper on every request); unique across processes and restarts by the name.
  const processName = randomBase62(10);
  let rows = 0;
  return {
    directory: options.directory,
    counters,
    reserveMaxTokens: options.reserveMaxTokens,
    // The counters unreachable (Redis down) is the store's outage too: 503, never a 500.
    admit: (tenant, request) =>
      admit(options, tenant, request, now()).catch((error: unknown) => {
        throw new StoreUnavailableError(error);
      }),
    recorder(finished) {
      const tenant = finished.principal?.tenant;
      if (tenant === undefined && !finished.billable) return;
      const used = tokensOf(finished);
      const inputTokens = safeCount(used.inputTokens);
      const outputTokens = safeCount(used.outputTokens);
      const tokens = inputTokens + outputTokens;
      const price =
        finished.deployment === undefined ? undefined : prices.priceOf(finished.deployment);
      if (price === undefined && tokens > 0 && finished.deployment !== undefined) {
        options.onUnpriced?.(finished.deployment);
      }
      const cost = costNano(price, inputTokens, outputTokens);
      if (finished.ticket !== undefined) {
        counters.settle(settlements(finished.ticket, tokens, cost), now()).catch((error) => {
          logger.error({ err: error }, 'cannot settle a request with the limit counters');
        });
      }
      const id = `${finished.startedAt.toString(36)}${processName}${(rows++).toString(36)}`;
      ledger.append(ledgerRow(id, finished, tenant, inputTokens, outputTokens, cost));
    },
  };
}

/**
 * What a request used: the upstream's own counts when it reported them; for a stream cut short
 * before them (the client left, the upstream broke), the prompt's estimate and one token for each
 * chunk relayed, since the upstream did generate those.
 */
function tokensOf(finished: FinishedRequest): { inputTokens: number; outputTokens: number } {
  if (finished.usage !== undefined) {
    return {
      inputTokens: finished.usage.prompt_tokens,
      outputTokens: finished.usage.completion_tokens,
    };
  }
  if (finished.streamedChunks === 0) return { inputTokens: 0, outputTokens: 0 };
  return {
    inputTokens: finished.ticket?.inputTokens ?? 0,
    outputTokens: finished.streamedChunks,
  };
}

/** Upstream usage as a whole, non-negative count (a vendor may send anything). */
function safeCount(value: number): number {
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}

function ledgerRow(
  id: string,
  finished: FinishedRequest,
  tenant: Tenant | undefined,
  inputTokens: number,
  outputTokens: number,
  costNanoUsd: number,
): LedgerRow {
  const deployment = finished.deployment ?? null;
  const slash = deployment === null ? -1 : deployment.indexOf('/');
  return {
    // Time first, so the rows of a batch sort as they came.
    id,
    requestId: finished.requestId,
    createdAt: finished.startedAt,
    keyId: tenant?.key.id ?? null,
    teamId: tenant?.key.teamId ?? null,
    model: finished.model ?? null,
    servedModel: deployment === null || slash < 0 ? null : deployment.slice(slash + 1),
    provider: finished.provider ?? null,
    deployment,
    route: finished.route,
    stream: finished.streamed,
    status: finished.status,
    inputTokens,
    outputTokens,
    costUsd: costNanoUsd / 1e9,
    latencyMs: Math.round(finished.durationMs),
    ttftMs: finished.ttftMs === undefined ? null : Math.round(finished.ttftMs),
    errorCode: finished.errorCode ?? null,
    attempts: finished.attempts ?? null,
    tried: finished.tried ?? null,
  };
}
