/**
 * Writes a planned {@link FakeResponse}: delays, headers, body, paced chunks and the chosen ending.
 * Split from `fake-upstream.ts`, which owns the server, the recording and the waiting.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FakeChunk, FakeResponse } from './fake-upstream.js';

/**
 * Sends one planned response; resolves when done or when the response is gone (`signal`
 * aborted). `closeSocket(true)` resets the connection, `closeSocket(false)` closes it; both tell
 * the caller the end was ours, not the client's.
 */
export async function sendFakeResponse(
  plan: FakeResponse,
  response: ServerResponse,
  signal: AbortSignal,
  chunkDelayMs: number,
  closeSocket: (reset: boolean) => void,
): Promise<void> {
  if (plan.resetBeforeHeaders === true) return closeSocket(true);
  if (plan.stallBeforeHeaders === true) return;
  if (plan.delayMs !== undefined && !(await pause(plan.delayMs, signal))) return;

  response.statusCode = plan.status ?? 200;
  const body = plan.body === undefined ? undefined : toBytes(plan.body);
  if (typeof plan.body === 'object' && !isBytes(plan.body)) {
    response.setHeader('content-type', 'application/json');
  }
  for (const [name, value] of Object.entries(plan.headers ?? {})) {
    response.setHeader(name, typeof value === 'string' ? value : [...value]);
  }
  const end = plan.end ?? 'normal';
  if (end === 'normal' && plan.chunks === undefined) {
    response.end(body);
    return;
  }

  // Headers go out now, so the client sees the response start before the first chunk.
  response.flushHeaders();
  const items: FakeChunk[] = body === undefined ? [] : [body];
  items.push(...(plan.chunks ?? []));
  let wroteData = false;
  for (const item of items) {
    if (typeof item === 'object' && 'delayMs' in item) {
      if (!(await pause(item.delayMs, signal))) return;
      continue;
    }
    if (wroteData && chunkDelayMs > 0 && !(await pause(chunkDelayMs, signal))) return;
    if (!(await write(response, item, signal))) return;
    wroteData = true;
  }
  if (end === 'normal') response.end();
  else if (end === 'close') closeSocket(false);
  // 'stall': nothing; the 'close' listener records the client leaving, close() ends the socket.
}

/**
 * Writes one chunk and resolves once it was handed to the kernel (true) or the response is gone
 * (false). Waiting for the callback is the backpressure: we never queue more than one chunk.
 */
function write(
  response: ServerResponse,
  data: string | Uint8Array,
  signal: AbortSignal,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    response.write(data, (error) => {
      signal.removeEventListener('abort', onAbort);
      resolve(error === undefined || error === null);
    });
  });
}

/** Waits `ms`; false if the response ended first (the timer is cleared, nothing leaks). */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function toBytes(body: string | Uint8Array | object): string | Uint8Array {
  return typeof body === 'string' || isBytes(body) ? body : JSON.stringify(body);
}
