import { describe, expect, it } from 'vitest';
import { CallAbort, onAbort, sleepUnlessAborted } from './call-signal.js';

describe('CallAbort', () => {
  it('aborts once, with its reason, and tells its listeners', () => {
    const abort = new CallAbort();
    const heard: unknown[] = [];
    abort.on('abort', (reason) => heard.push(reason));
    expect(abort.aborted).toBe(false);
    abort.abort('first');
    abort.abort('second');
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe('first');
    expect(heard).toEqual(['first']);
  });
});

const kinds = [
  [
    'CallAbort',
    () => {
      const a = new CallAbort();
      return { signal: a, abort: () => a.abort('x') };
    },
  ],
  [
    'AbortSignal',
    () => {
      const c = new AbortController();
      return { signal: c.signal, abort: () => c.abort('x') };
    },
  ],
] as const;

describe('onAbort', () => {
  it.each(kinds)('%s: calls the listener once on abort', (_name, make) => {
    const { signal, abort } = make();
    let calls = 0;
    onAbort(signal, () => calls++);
    abort();
    abort();
    expect(calls).toBe(1);
  });

  it.each(kinds)('%s: calls nothing once told to stop, and keeps no listener', (_name, make) => {
    const { signal, abort } = make();
    let calls = 0;
    const stop = onAbort(signal, () => calls++);
    stop();
    abort();
    expect(calls).toBe(0);
    if (signal instanceof CallAbort) expect(signal.listenerCount('abort')).toBe(0);
  });
});

describe('sleepUnlessAborted', () => {
  it.each(kinds)(
    '%s: waits the full time when nothing aborts, leaving no listener',
    async (_name, make) => {
      const { signal } = make();
      const started = performance.now();
      await sleepUnlessAborted(30, signal);
      expect(performance.now() - started).toBeGreaterThanOrEqual(25);
      if (signal instanceof CallAbort) expect(signal.listenerCount('abort')).toBe(0);
    },
  );

  it.each(kinds)('%s: ends at once when aborted during the wait', async (_name, make) => {
    const { signal, abort } = make();
    const started = performance.now();
    const sleeping = sleepUnlessAborted(5_000, signal);
    setTimeout(abort, 10);
    await sleeping;
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it.each(kinds)('%s: does not wait at all when already aborted', async (_name, make) => {
    const { signal, abort } = make();
    abort();
    const started = performance.now();
    await sleepUnlessAborted(5_000, signal);
    expect(performance.now() - started).toBeLessThan(50);
  });
});
