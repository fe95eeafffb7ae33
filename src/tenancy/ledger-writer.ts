import type { ProviderLogger } from '../providers/provider.js';
import type { LedgerRow, TenancyStore } from '../store/tenancy-store.js';

export interface LedgerWriterOptions {
  readonly store: Pick<TenancyStore, 'appendLedger'>;
  readonly logger: ProviderLogger;
  /** Rows per insert. */
  readonly batchSize?: number;
  /** How long a row may wait for its batch to fill. */
  readonly flushIntervalMs?: number;
  /** Rows held while the database is down; beyond it the oldest are dropped (and counted). */
  readonly maxQueued?: number;
  /** Told how many rows were dropped, each time some are. */
  readonly onDropped?: (count: number) => void;
}

export interface LedgerWriter {
  /** Queues a row; never waits and never throws. */
  append(row: LedgerRow): void;
  /** Rows waiting to be written (a batch being inserted not included). */
  readonly queued: number;
  /** Writes everything queued now, retrying while the database fails, until `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}

/**
 * The usage ledger's writer: rows queue in memory and go to the database in batches, off the
 * request path, one insert at a time. When an insert fails the rows stay queued and the writer
 * retries with backoff (inserts are idempotent on the row id, so a batch that did land but was
 * reported failed is not counted twice); while the database stays down the queue is bounded and
 * the oldest rows are dropped, counted and logged.
 */
export function createLedgerWriter(options: LedgerWriterOptions): LedgerWriter {
  const batchSize = options.batchSize ?? 500;
  const flushIntervalMs = options.flushIntervalMs ?? 200;
  const maxQueued = options.maxQueued ?? 100_000;
  const { store, logger } = options;
  let queue: LedgerRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | undefined;
  let failures = 0;
  let closed = false;

  const schedule = (delayMs: number) => {
    if (timer !== undefined || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void writeAll();
    }, delayMs);
    timer.unref();
  };

  /** Drops the oldest rows beyond the bound. */
  // Dropped a hundredth of the bound at a time, not one row per append: copying a full queue
  // on every request would cost more than the requests themselves.
  const slack = Math.ceil(maxQueued / 100);
  const bound = () => {
    if (queue.length <= maxQueued) return;
    const dropped = Math.min(queue.length, queue.length - maxQueued + slack);
    queue = queue.slice(dropped);
    options.onDropped?.(dropped);
    logger.error({ dropped, maxQueued }, 'usage ledger: queue full, oldest rows dropped');
  };

  /** Writes batches until the queue is empty or an insert fails. */
  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      // Taken out while in flight, so rows queued or dropped meanwhile can't be confused with it.
      const batch = queue.splice(0, batchSize);
      try {
        await store.appendLedger(batch);
      } catch (error) {
        queue = batch.concat(queue);
        bound();
        failures++;
        if (failures === 1 || failures % 50 === 0) {
          logger.error(
            { err: error, queued: queue.length, failures },
            'usage ledger: the database refused a batch; rows stay queued',
          );
        }
        // Backoff up to 5 s while the database is down.
        schedule(Math.min(5_000, flushIntervalMs * 2 ** Math.min(failures, 5)));
        return;
      }
      if (failures > 0) logger.info({ failures }, 'usage ledger: the database is back');
      failures = 0;
    }
  };

  /**
   * One drain at a time. `writing` is cleared in a callback that runs after it was set, even when
   * the drain finds nothing to do and settles at once.
   */
  const writeAll = (): Promise<void> => {
    writing ??= drain().finally(() => {
      writing = undefined;
    });
    return writing;
  };

  return {
    append(row) {
      queue.push(row);
      bound();
      if (failures > 0) return;
      if (queue.length >= batchSize && writing === undefined) void writeAll();
      else schedule(flushIntervalMs);
    },
    get queued() {
      return queue.length;
    },
    async close(timeoutMs) {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (writing !== undefined) await writing;
        if (queue.length === 0) break;
        await writeAll();
        if (queue.length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (queue.length > 0) {
        options.onDropped?.(queue.length);
        logger.error({ dropped: queue.length }, 'usage ledger: rows unwritten at shutdown');
      }
    },
  };
}
