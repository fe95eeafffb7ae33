import { EventEmitter } from 'node:events';

/**
 * A call's cancellation as providers see it: `aborted` to check, and handed to undici as a
 * request's `signal` (undici takes an AbortSignal or an EventEmitter that emits 'abort').
 */
export type CallSignal = AbortSignal | CallAbort;

/**
 * The gateway's per-request cancellation: an EventEmitter with AbortSignal's `aborted` and
 * `reason` and an 'abort' event. Why not an AbortController: in Node 20 adding and removing a
 * listener on an AbortSignal (undici does both for every request) is many times dearer than on
 * an EventEmitter, the signal being tracked for garbage collection; on the bench relay it was a
 * tenth of the gateway's own cost (docs/performance.md, "Measured choices in the code").
 */
export class CallAbort extends EventEmitter {
  aborted = false;
  reason: unknown;

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.emit('abort', reason);
  }
}

/**
 * Calls `listener` once when `signal` aborts; returns the function that stops listening (call it
 * when the work is over, so no listener outlives its request).
 */
export function onAbort(signal: CallSignal, listener: () => void): () => void {
  if (signal instanceof CallAbort) {
    signal.once('abort', listener);
    return () => signal.removeListener('abort', listener);
  }
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}

/** Waits `ms`, or less if `signal` aborts first (then resolves at once). */
export function sleepUnlessAborted(ms: number, signal: CallSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stopListening();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const stopListening = onAbort(signal, done);
  });
}
