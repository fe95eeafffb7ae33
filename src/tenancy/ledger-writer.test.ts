import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LedgerRow, openTenancyStore, type TenancyStore } from '../store/tenancy-store.js';
import { createLedgerWriter } from './ledger-writer.js';

const logger = { debug() {}, info() {}, warn() {}, error() {} };

function row(index: number): LedgerRow {
  return {
    id: `row-${String(index).padStart(8, '0')}`,
    requestId: `req-${index}`,
    createdAt: Date.parse('2026-12-07T12:00:00Z') + index,
    keyId: 'key_a',
    teamId: null,
    model: 'm',
    servedModel: 'm',
    provider: 'ollama',
    deployment: 'ollama/m',
    route: '/v1/chat/completions',
    stream: false,
    status: 200,
    inputTokens: 1,
    outputTokens: 2,
    costUsd: 0,
    latencyMs: 1,
    ttftMs: null,
    errorCode: null,
  };
}

describe('the ledger writer, on a real SQLite file', () => {
  let folder: string;
  let store: TenancyStore;
  /** Fault injection: while set, every insert fails as a database that is down would. */
  let down = false;
  let inserts = 0;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'aigw-ledger-'));
    store = await openTenancyStore(`sqlite:${join(folder, 'ledger.db')}`);
    down = false;
    inserts = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(folder, { recursive: true, force: true });
  });

  const flaky = {
    appendLedger: async (rows: readonly LedgerRow[]) => {
      if (down) throw new Error('connection refused');
      inserts++;
      await store.appendLedger(rows);
    },
  };

  const count = async () => (await store.spent({ keyId: 'key_a' }, null)).tokens / 3;

  it('writes 20,000 rows appended at once in batches, losing none', async () => {
    const writer = createLedgerWriter({ store: flaky, logger, batchSize: 500 });
    for (let index = 0; index < 20_000; index++) writer.append(row(index));
    await writer.close(10_000);
    expect(await count()).toBe(20_000);
    expect(inserts).toBe(40);
  });

  it('keeps up with a steady stream of rows, its timer and full batches taking turns', async () => {
    const writer = createLedgerWriter({
      store: flaky,
      logger,
      batchSize: 100,
      flushIntervalMs: 20,
    });
    let appended = 0;
    // 50 rows every 5 ms for a second: full batches and timer flushes interleave.
    for (let tick = 0; tick < 200; tick++) {
      for (let index = 0; index < 50; index++) writer.append(row(appended++));
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(writer.queued).toBeLessThan(1_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writer.queued).toBe(0);
    expect(await count()).toBe(appended);
    await writer.close(1_000);
  });

  it('flushes a lone row after the interval, off the request path', async () => {
    const writer = createLedgerWriter({ store: flaky, logger, flushIntervalMs: 20 });
    writer.append(row(1));
    expect(await count()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await count()).toBe(1);
    await writer.close(1_000);
  });

  it('keeps rows while the database is down and writes them once it is back', async () => {
    const writer = createLedgerWriter({ store: flaky, logger, flushIntervalMs: 10 });
    down = true;
    for (let index = 0; index < 100; index++) writer.append(row(index));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(writer.queued).toBe(100);
    down = false;
    await writer.close(5_000);
    expect(await count()).toBe(100);
  });

  it('drops the oldest rows past its bound, and says how many', async () => {
    const dropped: number[] = [];
    const writer = createLedgerWriter({
      store: flaky,
      logger,
      flushIntervalMs: 10,
      maxQueued: 200,
      onDropped: (rows) => dropped.push(rows),
    });
    down = true;
    for (let index = 0; index < 300; index++) writer.append(row(index));
    expect(writer.queued).toBeLessThanOrEqual(200);
    const lost = dropped.reduce((sum, rows) => sum + rows, 0);
    expect(lost + writer.queued).toBe(300);
    // At least two at a time (a hundredth of the bound), not one per row appended.
    expect(dropped.length).toBeLessThanOrEqual(Math.ceil(lost / 2));
    down = false;
    await writer.close(5_000);
    const page = await store.requests({ limit: 300 });
    expect(page.rows).toHaveLength(300 - lost);
    expect(page.rows.map((written) => written.requestId).at(-1)).toBe(`req-${lost}`);
  });

  it('counts what it could not write before its shutdown deadline as dropped', async () => {
    const dropped: number[] = [];
    const writer = createLedgerWriter({
      store: flaky,
      logger,
      onDropped: (rows) => dropped.push(rows),
    });
    down = true;
    writer.append(row(1));
    await writer.close(150);
    expect(dropped).toEqual([1]);
  });

  it('does not write a batch twice when it is retried after it landed', async () => {
    await store.appendLedger([row(1), row(2)]);
    const writer = createLedgerWriter({ store: flaky, logger });
    writer.append(row(1));
    writer.append(row(3));
    await writer.close(1_000);
    expect(await count()).toBe(3);
  });
});
