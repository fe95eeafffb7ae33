import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { createBatchingDestination } from './stdout-destination.js';

/**
 * A real Writable that records what reaches it; `stall()` plays a pipe whose reader stopped (the
 * write in progress is never confirmed, later ones queue in the stream), `resume()` a reader back.
 */
function recordingSink() {
  const writes: string[] = [];
  let held: Array<() => void> | undefined;
  const sink = new Writable({
    decodeStrings: false,
    write(chunk: string, _encoding, callback) {
      writes.push(chunk);
      if (held === undefined) callback();
      else held.push(callback);
    },
  });
  return {
    sink,
    writes,
    stall() {
      held = [];
    },
    resume() {
      const callbacks = held ?? [];
      held = undefined;
      for (const callback of callbacks) callback();
    },
  };
}

const line = (index: number, size = 100) => `${`{"n":${index},"pad":"`.padEnd(size - 3, 'x')}"}\n`;

describe('createBatchingDestination', () => {
  it('writes the lines of one turn together, once, at the end of the turn', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink);
    destination.write(line(1));
    destination.write(line(2));
    destination.write(line(3));
    expect(recorder.writes).toEqual([]);
    await nextTurn();
    expect(recorder.writes).toEqual([line(1) + line(2) + line(3)]);
    destination.write(line(4));
    await nextTurn();
    expect(recorder.writes).toEqual([line(1) + line(2) + line(3), line(4)]);
  });

  it('keeps each write within 4 KiB (atomic on a shared pipe), splitting only between lines', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink);
    const lines = Array.from({ length: 30 }, (_, index) => line(index, 1000));
    for (const text of lines) destination.write(text);
    await nextTurn();
    expect(recorder.writes.join('')).toBe(lines.join(''));
    expect(recorder.writes.map((text) => Buffer.byteLength(text))).toEqual([
      4000, 4000, 4000, 4000, 4000, 4000, 4000, 2000,
    ]);
  });

  it('counts bytes, not characters, and writes a line longer than 4 KiB alone', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink);
    const wide = `${'é'.repeat(1500)}\n`; // 1,501 characters, 3,001 bytes
    const long = `${'x'.repeat(5000)}\n`;
    destination.write(wide);
    destination.write(wide);
    destination.write(long);
    destination.write(line(1));
    await nextTurn();
    expect(recorder.writes).toEqual([wide, wide, long, line(1)]);
  });

  it('drops lines while the reader is stalled, then says how many were lost', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink, { maxQueuedBytes: 150 });
    recorder.stall();
    destination.write(line(1));
    destination.write(line(2));
    await nextTurn();
    // 200 bytes the reader has not taken: over the cap, so the next turns' lines are dropped.
    destination.write(line(3));
    await nextTurn();
    destination.write(line(4));
    await nextTurn();
    expect(recorder.writes).toEqual([line(1) + line(2)]);
    recorder.resume();
    destination.write(line(5));
    await nextTurn();
    expect(recorder.writes).toHaveLength(2);
    const [notice, kept] = (recorder.writes[1] ?? '').split('\n');
    expect(JSON.parse(notice ?? '')).toMatchObject({ level: 'warn', dropped: 2 });
    expect(`${kept}\n`).toBe(line(5));
  });

  it('flush calls back once everything written reached the reader', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink);
    recorder.stall();
    destination.write(line(1));
    await nextTurn();
    destination.write(line(2));
    let flushed = false;
    destination.flush(() => {
      flushed = true;
    });
    await nextTurn();
    expect(flushed).toBe(false);
    recorder.resume();
    await nextTurn();
    expect(flushed).toBe(true);
    expect(recorder.writes).toEqual([line(1), line(2)]);
  });

  it('stops writing, without throwing, once the reader is gone (EPIPE)', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink);
    recorder.sink.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    destination.write(line(1));
    await nextTurn();
    expect(recorder.writes).toEqual([]);
    await new Promise<void>((resolve) => destination.flush(() => resolve()));
  });

  it('flushSync writes what is pending at once, and the turn then writes nothing twice', async () => {
    const recorder = recordingSink();
    const destination = createBatchingDestination(recorder.sink);
    destination.write(line(1));
    destination.flushSync();
    expect(recorder.writes).toEqual([line(1)]);
    await nextTurn();
    expect(recorder.writes).toEqual([line(1)]);
    destination.write(line(2));
    const flushed = new Promise<void>((resolve) => destination.flush(() => resolve()));
    await flushed;
    expect(recorder.writes).toEqual([line(1), line(2)]);
  });

  it('carries pino lines unchanged', async () => {
    const recorder = recordingSink();
    const logger = createLogger({
      level: 'info',
      secrets: [],
      destination: createBatchingDestination(recorder.sink),
    });
    logger.info({ requestId: 'r1' }, 'first');
    logger.warn('second');
    await nextTurn();
    expect(recorder.writes).toHaveLength(1);
    const lines = (recorder.writes[0] ?? '').trimEnd().split('\n');
    expect(lines.map((text) => JSON.parse(text) as { msg: string; level: string })).toMatchObject([
      { level: 'info', msg: 'first', requestId: 'r1' },
      { level: 'warn', msg: 'second' },
    ]);
  });
});
