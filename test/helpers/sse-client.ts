/**
 * Raw HTTP access to a gateway for tests that must see the bytes the SDK hides: the status and
 * envelope of a failed request, every SSE event of a stream (with its arrival time) and whether
 * `[DONE]` came. Also a small poller for conditions that settle asynchronously.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENT_KEY } from './gateway-harness.js';

/** One SSE event as received: its `data` text and `performance.now()` when it was complete. */
export interface RawSseEvent {
  readonly data: string;
  readonly at: number;
}

/** Options of {@link postChat}. */
export interface PostChatOptions {
  /** `Authorization: Bearer …`; defaults to the harness's client key, `null` sends none. */
  readonly apiKey?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** A minimal valid chat request body. */
export function chatBody(
  stream: boolean,
  content = 'hi',
  model = 'llama3.2',
): Record<string, unknown> {
  return { model, stream, messages: [{ role: 'user', content }] };
}

/** POSTs a JSON body with fetch (no retries, no SDK) and returns the unread response. */
export async function postChat(
  baseUrl: string,
  path: string,
  body: unknown,
  options: PostChatOptions = {},
): Promise<Response> {
  const apiKey = options.apiKey === undefined ? CLIENT_KEY : options.apiKey;
  const init: RequestInit = {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(apiKey === null ? {} : { authorization: `Bearer ${apiKey}` }),
      ...options.headers,
    },
    body: JSON.stringify(body),
  };
  if (options.signal !== undefined) init.signal = options.signal;
  return fetch(`${baseUrl}${path}`, init);
}

/**
 * Reads SSE events from a response until it ends (or `onEvent` returns `'stop'`, which leaves the
 * body unread for the caller to abort). Only `data:` lines are kept; events are split on blank
 * lines whatever the read boundaries.
 */
export async function readSseEvents(
  response: Response,
  onEvent?: (event: RawSseEvent) => 'stop' | undefined,
): Promise<RawSseEvent[]> {
  const body = response.body;
  if (body === null) throw new Error('response has no body');
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const events: RawSseEvent[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let boundary = buffer.indexOf('\n\n');
    while (boundary !== -1) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      boundary = buffer.indexOf('\n\n');
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data === '') continue;
      const event = { data, at: performance.now() };
      events.push(event);
      if (onEvent?.(event) === 'stop') {
        reader.releaseLock();
        return events;
      }
    }
  }
  if (buffer.trim() !== '') throw new Error(`stream ended inside an event: ${buffer}`);
  return events;
}

/** The parsed JSON of every event but `[DONE]`. */
export function eventPayloads(events: readonly RawSseEvent[]): unknown[] {
  return events.filter((event) => event.data !== '[DONE]').map((event) => JSON.parse(event.data));
}

/** Polls `probe` every 10 ms until it is true; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  probe: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await sleep(10);
  }
}
