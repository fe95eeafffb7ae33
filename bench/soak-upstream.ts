/**
 * The soak's upstream: the project's fake upstream (no request records) in its own process, with
 * paced streams (SOAK_CHUNKS pieces, SOAK_CHUNK_DELAY_MS apart) and a marker rule on the last user
 * message: `[soak:500]` answers 500, `[soak:429]` answers 429 with `retry-after`, `[soak:slow]`
 * waits SOAK_SLOW_MS before the headers (so a client can abort before the first byte).
 *
 * It watches its own HTTP server through `diagnostics_channel`, independent of the fake's internals:
 * responses in progress, and for requests whose `x-request-id` starts with `a-` (the soak's aborted
 * ones) whether the response was cut by the gateway and when, on the machine's monotonic clock
 * (shared by every process, so the soak can subtract its own abort time). It answers
 * `{ type: 'stats' }` over the IPC channel with counters and the events since the last question.
 * Prints `ready <url>` once listening.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type FakeResponder,
  type FakeResponse,
  type RecordedRequest,
  startFakeUpstream,
} from '../test/helpers/fake-upstream.js';
import { defaultFakeResponse } from '../test/helpers/fake-upstream-defaults.js';
import type { UpstreamEvent, UpstreamStats } from './soak-protocol.js';

const chunks = Number(process.env.SOAK_CHUNKS ?? '20');
const chunkDelayMs = Number(process.env.SOAK_CHUNK_DELAY_MS ?? '20');
const slowMs = Number(process.env.SOAK_SLOW_MS ?? '1000');
const replyPieces = Array.from({ length: chunks }, (_, index) => `token${index} `);

/** Ids the soak gives the requests it will abort; only these are reported one by one. */
const WATCHED_ID_PREFIX = 'a-';
const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

let activeResponses = 0;
let started = 0;
let cut = 0;
let events: UpstreamEvent[] = [];

diagnosticsChannel.subscribe('http.server.request.start', (message) => {
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  const startedAt = monotonicMs();
  started += 1;
  activeResponses += 1;
  const header = request.headers['x-request-id'];
  const id = typeof header === 'string' && header.startsWith(WATCHED_ID_PREFIX) ? header : '';
  response.once('close', () => {
    activeResponses -= 1;
    const aborted = !response.writableFinished;
    if (aborted) cut += 1;
    if (id === '') return;
    const at = monotonicMs();
    events.push({ id, outcome: aborted ? 'aborted' : 'completed', at, lifetimeMs: at - startedAt });
  });
});

/** The error body each vendor's clients expect: Ollama's bare string, OpenAI's envelope. */
function scriptedError(request: RecordedRequest, status: number): FakeResponse {
  const message = `soak scripted ${status}`;
  const isOllama = request.path.startsWith('/api/');
  const body = isOllama ? { error: message } : { error: { message, type: 'server_error' } };
  return status === 429 ? { status, headers: { 'retry-after': '1' }, body } : { status, body };
}

function lastUserText(json: unknown): string {
  if (typeof json !== 'object' || json === null || !('messages' in json)) return '';
  const { messages } = json;
  if (!Array.isArray(messages)) return '';
  const last: unknown = messages.at(-1);
  if (typeof last !== 'object' || last === null || !('content' in last)) return '';
  return typeof last.content === 'string' ? last.content : '';
}

function plan(request: RecordedRequest): FakeResponse {
  const text = lastUserText(request.json);
  if (text.includes('[soak:500]')) return scriptedError(request, 500);
  if (text.includes('[soak:429]')) return scriptedError(request, 429);
  const normal = defaultFakeResponse(request, replyPieces);
  return text.includes('[soak:slow]') ? { ...normal, delayMs: slowMs } : normal;
}

const upstream = await startFakeUpstream({ record: false, chunkDelayMs, replyPieces });
// The fake's queue is FIFO and one-shot; a responder that re-queues itself answers every request
// (the queue never holds more than one entry).
const rule: FakeResponder = (request) => {
  upstream.enqueue(rule);
  return plan(request);
};
upstream.enqueue(rule);

process.on('message', (message: unknown) => {
  if (typeof message !== 'object' || message === null || !('type' in message)) return;
  if (message.type !== 'stats') return;
  const stats: UpstreamStats = {
    type: 'stats',
    openConnections: upstream.openConnections(),
    activeResponses,
    started,
    cut,
    events,
  };
  events = [];
  process.send?.(stats);
});
// The soak going away (crash, kill -9) closes the channel: never outlive it.
process.on('disconnect', () => void upstream.close().finally(() => process.exit(0)));

process.stdout.write(`ready ${upstream.url}\n`);
const stop = () => void upstream.close().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
