/**
 * Upstream faults end to end, for both providers, streaming and not: what the client sees when the
 * upstream is unreachable, slow, stalls, breaks off, lies about its body, or answers with an error
 * status. Before the stream began a fault is a status and the OpenAI envelope; after it, a final
 * `data: {"error":…}` event and no `[DONE]`. Timeouts are shortened to keep this file fast.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeChunk, FakeResponse, RecordedRequest } from '../helpers/fake-upstream.js';
import {
  ndjsonResponse,
  ollamaChatResponse,
  ollamaNdjsonLines,
  openAiCompletion,
  openAiSseEvents,
  partialStream,
  sseResponse,
  streamedAs,
  type WireProvider,
} from '../helpers/fake-upstream-wire.js';
import { type GatewayHarness, startGateway, useGateway } from '../helpers/gateway-harness.js';
import {
  chatBody,
  eventPayloads,
  postChat,
  type RawSseEvent,
  readSseEvents,
  waitUntil,
} from '../helpers/sse-client.js';
import { unusedPort } from '../helpers/unused-port.js';

const IDLE_MS = 300;
const FIRST_BYTE_MS = 300;
/** How late undici's coarse timers may fire a sub-second timeout. */
const TIMER_SLACK_MS = 1_200;
const FAST_TIMEOUTS = {
  UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(FIRST_BYTE_MS),
  UPSTREAM_IDLE_TIMEOUT_MS: String(IDLE_MS),
};

type Provider = WireProvider;
const PROVIDERS: readonly Provider[] = ['ollama', 'cerebras'];
const ROUTES: Readonly<Record<Provider, string>> = {
  ollama: '/ollama/v1/chat/completions',
  cerebras: '/cerebras/v1/chat/completions',
};

/** What the client must see. */
type Expected =
  | { readonly kind: 'envelope'; readonly status: number; readonly code: string }
  | {
      readonly kind: 'event';
      readonly code: string;
      /** The error must come about one idle timeout after the last chunk, not much later. */
      readonly afterIdle?: boolean;
    };

interface FaultCase {
  readonly name: string;
  readonly stream: boolean;
  readonly respond: (provider: Provider) => FakeResponse;
  readonly expected: Expected;
  readonly retryAfter?: string;
  /** The upstream may see the request twice (a stale-connection repeat). */
  readonly mayRepeatOnce?: boolean;
  /** How many times the upstream sees the request (retried before the first byte); 1 if unset. */
  readonly attempts?: number;
}

const envelope = (status: number, code: string): Expected => ({ kind: 'envelope', status, code });

/** A provider's complete non-streamed answer. */
function completeBody(provider: Provider): object {
  return provider === 'cerebras' ? openAiCompletion() : ollamaChatResponse();
}

const HTML_502 = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
const PARTIAL_JSON = '{"id":"chatcmpl-cut","object":"chat.completion","choices":[{"index":0,';

/** Faults of each mode (streaming, not) that both providers must survive. */
const FAULTS: readonly FaultCase[] = [
  ...[false, true].flatMap((stream): FaultCase[] => [
    {
      name: 'reset before headers',
      stream,
      respond: () => ({ resetBeforeHeaders: true }),
      expected: envelope(502, 'upstream_unreachable'),
      // On a reused keep-alive connection this looks like the upstream closing it as idle, and
      // the request is sent once more (see the stale-connection suite below); never more.
      mayRepeatOnce: true,
    },
    {
      name: 'first byte slower than the timeout',
      stream,
      respond: (provider) => ({ delayMs: 2_000, body: completeBody(provider) }),
      expected: envelope(504, 'upstream_timeout'),
    },
    {
      name: '200 with a garbage body',
      stream,
      respond: () => ({ body: 'this is {{{ not json at all' }),
      expected: envelope(502, 'upstream_error'),
    },
    {
      name: '200 with an HTML body',
      stream,
      respond: () => ({ headers: { 'content-type': 'text/html' }, body: HTML_502 }),
      expected: envelope(502, 'upstream_error'),
    },
    {
      name: 'status 500',
      stream,
      respond: () => ({ status: 500, body: { error: { message: 'internal failure' } } }),
      expected: envelope(502, 'upstream_error'),
    },
    {
      // "Not now": retried (the default policy's two attempts), then relayed as 503, not 502.
      name: 'status 503 with an HTML body',
      stream,
      respond: () => ({ status: 503, headers: { 'content-type': 'text/html' }, body: HTML_502 }),
      expected: envelope(503, 'upstream_unavailable'),
      attempts: 2,
    },
    {
      // Longer than the policy's retry-after cap: relayed at once, without a second attempt.
      name: 'status 429 with a long retry-after',
      stream,
      respond: () => ({
        status: 429,
        headers: { 'retry-after': '60' },
        body: { error: { message: 'slow down' } },
      }),
      expected: envelope(429, 'upstream_rate_limited'),
      retryAfter: '60',
    },
    {
      name: 'status 401 (the provider key, not the client key)',
      stream,
      respond: () => ({ status: 401, body: { error: { message: 'Wrong API key' } } }),
      expected: envelope(502, 'upstream_error'),
    },
    {
      name: 'status 403',
      stream,
      respond: () => ({ status: 403, body: { error: 'forbidden' } }),
      expected: envelope(502, 'upstream_error'),
    },
  ]),
  // Non-streaming: the body breaks after the headers.
  {
    name: 'body stalls after the headers',
    stream: false,
    respond: () => ({
      headers: { 'content-type': 'application/json' },
      chunks: [PARTIAL_JSON],
      end: 'stall',
    }),
    expected: envelope(504, 'upstream_timeout'),
  },
  {
    name: 'connection closed mid-body',
    stream: false,
    respond: () => ({
      headers: { 'content-type': 'application/json' },
      chunks: [PARTIAL_JSON],
      end: 'close',
    }),
    expected: envelope(502, 'upstream_error'),
  },
  {
    name: 'truncated body, cleanly ended',
    stream: false,
    respond: () => ({ headers: { 'content-type': 'application/json' }, body: PARTIAL_JSON }),
    expected: envelope(502, 'upstream_error'),
  },
  // Streaming: the fault comes after the first chunk went to the client.
  {
    name: 'stall mid-stream',
    stream: true,
    respond: (provider) => streamedAs(provider, partialStream(provider), { end: 'stall' }),
    expected: { kind: 'event', code: 'upstream_timeout', afterIdle: true },
  },
  {
    name: 'connection closed mid-stream',
    stream: true,
    respond: (provider) => streamedAs(provider, partialStream(provider), { end: 'close' }),
    expected: { kind: 'event', code: 'upstream_error' },
  },
  {
    name: 'stream truncated but cleanly ended',
    stream: true,
    respond: (provider) => streamedAs(provider, partialStream(provider)),
    expected: { kind: 'event', code: 'upstream_error' },
  },
  {
    name: 'an invalid JSON chunk mid-stream',
    stream: true,
    respond: (provider) =>
      streamedAs(provider, [
        ...partialStream(provider),
        provider === 'cerebras' ? 'data: {"choices": [ oops\n\n' : '{"message": oops\n',
      ]),
    expected: { kind: 'event', code: 'upstream_error' },
  },
];

const TABLE = PROVIDERS.flatMap((provider) => FAULTS.map((fault) => ({ ...fault, provider })));

async function expectEnvelope(response: Response, status: number, code: string): Promise<void> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(response.headers.get('x-request-id')).toBeTruthy();
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
  expect(body.error?.code).toBe(code);
  expect(typeof body.error?.message === 'string' && body.error.message !== '').toBe(true);
}

/** Asserts an in-stream error: chunks first, then one `{"error":…}` event last, no `[DONE]`. */
function expectErrorEvent(events: readonly RawSseEvent[], code: string): void {
  expect(events.map((event) => event.data)).not.toContain('[DONE]');
  expect(events.length).toBeGreaterThanOrEqual(2);
  const payloads = eventPayloads(events) as Array<Record<string, unknown>>;
  expect(payloads.at(-1)).toMatchObject({ error: { code } });
  const chunks = payloads.slice(0, -1);
  for (const chunk of chunks) expect(chunk).toHaveProperty('object', 'chat.completion.chunk');
  // No finish_reason was sent upstream before the cut; the gateway must not invent one.
  const finishReasons = chunks.flatMap((chunk) =>
    ((chunk.choices ?? []) as Array<{ finish_reason?: unknown }>).map(
      (choice) => choice.finish_reason,
    ),
  );
  expect(finishReasons.filter((reason) => reason != null)).toEqual([]);
}

describe('upstream faults', () => {
  let gateway: GatewayHarness;
  /** Scripted answers by marker: concurrent tests each find their own, whatever the order. */
  const plans = new Map<string, FakeResponse>();
  const script = (marker: string, plan: FakeResponse): void => {
    plans.set(marker, plan);
    const responder = (request: RecordedRequest): FakeResponse => {
      const found = [...plans].find(([key]) => request.body.includes(`"${key}"`));
      if (found === undefined) throw new Error('request without a known marker');
      return found[1];
    };
    // Two: a repeat on a stale connection takes one more, whichever test's request it is.
    gateway.upstream.enqueue(responder, responder);
  };
  const requestsWith = (marker: string) =>
    gateway.upstream.requests.filter((request) => request.body.includes(`"${marker}"`));

  beforeAll(async () => {
    gateway = await startGateway(FAST_TIMEOUTS);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  // Concurrent: the timeout cases each wait for a timer; run one after another they add up.
  it.concurrent.each(TABLE)('$provider: $name (stream: $stream)', async (fault) => {
    const marker = `fault-${fault.provider}-${fault.name}-${fault.stream}`;
    script(marker, fault.respond(fault.provider));
    const response = await postChat(
      gateway.url,
      ROUTES[fault.provider],
      chatBody(fault.stream, marker),
    );
    const { expected } = fault;
    if (expected.kind === 'envelope') {
      await expectEnvelope(response, expected.status, expected.code);
      expect(response.headers.get('retry-after')).toBe(fault.retryAfter ?? null);
    } else {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = await readSseEvents(response);
      expectErrorEvent(events, expected.code);
      if (expected.afterIdle === true) {
        const lastChunk = events.at(-2);
        const error = events.at(-1);
        if (lastChunk === undefined || error === undefined) throw new Error('events missing');
        const silence = error.at - lastChunk.at;
        expect(silence).toBeGreaterThanOrEqual(IDLE_MS - 50);
        // undici runs header and body timeouts on its coarse timer wheel (ticks of ~500 ms), so
        // a sub-second timeout fires up to about a second late; bounded, not exact.
        expect(silence).toBeLessThan(IDLE_MS + TIMER_SLACK_MS);
      }
    }
    if (fault.mayRepeatOnce === true) {
      expect(requestsWith(marker).length).toBeGreaterThanOrEqual(1);
      expect(requestsWith(marker).length).toBeLessThanOrEqual(2);
    } else {
      expect(requestsWith(marker)).toHaveLength(fault.attempts ?? 1);
    }
  });

  it.concurrent.each(
    PROVIDERS.flatMap((provider) => [false, true].map((stream) => ({ provider, stream }))),
  )('$provider: a redirect is never followed (stream: $stream)', async ({ provider, stream }) => {
    const marker = `redirect-${provider}-${stream}`;
    script(marker, {
      status: 302,
      headers: { location: `${gateway.upstream.url}/elsewhere/chat` },
      body: '',
    });
    const response = await postChat(gateway.url, ROUTES[provider], chatBody(stream, marker));
    await expectEnvelope(response, 502, 'upstream_error');
    // Give a followed redirect time to show up at the fake before counting.
    await sleep(50);
    expect(
      gateway.upstream.requests.filter((request) => request.path.includes('elsewhere')),
    ).toEqual([]);
    expect(requestsWith(marker).map((request) => request.path)).toEqual([
      provider === 'cerebras' ? '/v1/chat/completions' : '/api/chat',
    ]);
  });

  it.concurrent.each(PROVIDERS)(
    '%s: a slow but steady stream longer than the idle timeout is not cut',
    async (provider) => {
      // 16+ chunks 100 ms apart: well past the idle timeout even as undici's coarse timers fire it.
      const pieces = Array.from({ length: 16 }, (_, index) => ` piece${index}`);
      const all = provider === 'cerebras' ? openAiSseEvents(pieces) : ollamaNdjsonLines(pieces);
      const marker = `steady-${provider}`;
      script(marker, streamedAs(provider, all, { chunkDelayMs: 100 }));
      const started = performance.now();
      const response = await postChat(gateway.url, ROUTES[provider], chatBody(true, marker));
      expect(response.status).toBe(200);
      const events = await readSseEvents(response);
      expect(performance.now() - started).toBeGreaterThan(IDLE_MS + TIMER_SLACK_MS);
      expect(events.at(-1)?.data).toBe('[DONE]');
      const text = (
        eventPayloads(events) as Array<{ choices: Array<{ delta: { content?: string } }> }>
      )
        .map((chunk) => chunk.choices[0]?.delta.content ?? '')
        .join('');
      expect(text).toBe(pieces.join(''));
    },
  );

  it('cerebras: SSE split mid-UTF-8 character and mid-event reaches the SDK intact', async () => {
    const pieces = ['Grüße', ' aus 🌍', ' — done'];
    const bytes = Buffer.from(openAiSseEvents(pieces).join(''));
    const cuts = [
      bytes.indexOf('ü') + 1, // inside the two bytes of 'ü'
      bytes.indexOf('data: ', bytes.indexOf('Grüße')) + 3, // inside 'data:' of the next event
      bytes.indexOf('🌍') + 2, // inside the four bytes of the emoji
      bytes.indexOf('"finish_reason":"stop"') + 5, // inside a JSON key
    ];
    script('split-sse', sseResponse(splitAt(bytes, cuts)));
    const stream = await gateway.client('cerebras').chat.completions.create({
      model: 'llama3.1-8b',
      messages: [{ role: 'user', content: 'split-sse' }],
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(pieces.join(''));
    expect(finish).toBe('stop');
  });

  it('ollama: NDJSON split mid-line and mid-UTF-8 character reaches the SDK intact', async () => {
    const pieces = ['Grüße', ' aus 🌍', ' — done'];
    const bytes = Buffer.from(ollamaNdjsonLines(pieces).join(''));
    const cuts = [
      bytes.indexOf('"message"') + 4, // mid-line
      bytes.indexOf('ü') + 1,
      bytes.indexOf('🌍') + 1,
      bytes.indexOf('"done":true') + 7, // inside the final line
    ];
    script('split-ndjson', ndjsonResponse(splitAt(bytes, cuts)));
    const stream = await gateway.client('ollama').chat.completions.create({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'split-ndjson' }],
      stream: true,
    });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(pieces.join(''));
    expect(finish).toBe('stop');
  });
});

/** Splits bytes at the given offsets, with a pause between the parts so each is its own read. */
function splitAt(bytes: Buffer, cuts: readonly number[]): FakeChunk[] {
  const sorted = [...cuts].sort((a, b) => a - b);
  for (const cut of sorted) if (cut <= 0 || cut >= bytes.length) throw new Error('bad cut');
  const chunks: FakeChunk[] = [];
  let start = 0;
  for (const cut of [...sorted, bytes.length]) {
    if (chunks.length > 0) chunks.push({ delayMs: 5 });
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  return chunks;
}

describe('upstream unreachable (connection refused)', () => {
  let gateway: GatewayHarness;
  beforeAll(async () => {
    const port = await unusedPort();
    gateway = await startGateway({
      ...FAST_TIMEOUTS,
      OLLAMA_HOST: `http://127.0.0.1:${port}`,
      CEREBRAS_BASE_URL: `http://127.0.0.1:${port}/v1`,
    });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it.each(PROVIDERS.flatMap((provider) => [false, true].map((stream) => ({ provider, stream }))))(
    '$provider (stream: $stream) → 502 upstream_unreachable',
    async ({ provider, stream }) => {
      const response = await postChat(gateway.url, ROUTES[provider], chatBody(stream));
      await expectEnvelope(response, 502, 'upstream_unreachable');
    },
  );
});

describe('upstream connections after failures', () => {
  let gateway: GatewayHarness;
  beforeAll(async () => {
    gateway = await startGateway(FAST_TIMEOUTS);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('returns to the keep-alive baseline: failures leak no upstream socket', async () => {
    const { upstream } = gateway;
    // Warm one keep-alive connection per provider pool: that is the baseline.
    for (const provider of PROVIDERS) {
      const response = await postChat(gateway.url, ROUTES[provider], chatBody(false));
      expect(response.status).toBe(200);
      await response.text();
    }
    await sleep(20);
    const baseline = upstream.openConnections();
    expect(baseline).toBeLessThanOrEqual(PROVIDERS.length);

    // One after another, so the pools never need a second connection; a failure either hands
    // its socket back for keep-alive or destroys it. The timer-bound ones run together at the end
    // (each destroys its socket) to keep this test short.
    const timed = (fault: FaultCase) => fault.expected.code === 'upstream_timeout';
    const plans = new Map<string, FakeResponse>();
    const byMarker = (request: RecordedRequest): FakeResponse =>
      [...plans].find(([marker]) => request.body.includes(`"${marker}"`))?.[1] ?? {};
    const send = async (provider: Provider, fault: FaultCase) => {
      const marker = `leak-${provider}-${fault.name}-${fault.stream}`;
      plans.set(marker, fault.respond(provider));
      // Two, by marker: a stale-connection repeat takes one more; a spare one answers the next.
      upstream.enqueue(byMarker, byMarker);
      await (await postChat(gateway.url, ROUTES[provider], chatBody(fault.stream, marker))).text();
    };
    for (const provider of PROVIDERS) {
      for (const fault of FAULTS.filter((fault) => !timed(fault))) await send(provider, fault);
    }
    await Promise.all(
      PROVIDERS.flatMap((provider) => FAULTS.filter(timed).map((fault) => send(provider, fault))),
    );
    // A socket a timeout leaked would hold its request open upstream (those responses stall until
    // the gateway closes the socket, or for longer than this wait). Idle keep-alive sockets are not counted: how many
    // the pools hold for a moment after destroyed ones is a race between undici reconnecting and
    // the next request, and says nothing about a leak (see the cancellation suite).
    await waitUntil(() => upstream.inFlight() === 0, 1_000, 'no upstream request in flight');
  });
});

describe('stale keep-alive connections', () => {
  const gateway = useGateway(FAST_TIMEOUTS);
  /** Repeats so far per provider: the metric counts across this block's cases. */
  const staleRepeats: Record<Provider, number> = { ollama: 0, cerebras: 0 };

  it.each(PROVIDERS.flatMap((provider) => [false, true].map((stream) => ({ provider, stream }))))(
    '$provider: a request the upstream dropped with its idle connection is sent once more (stream: $stream)',
    async ({ provider, stream }) => {
      const { upstream } = gateway;
      const warm = await postChat(gateway.url, ROUTES[provider], chatBody(false));
      await warm.text();
      // The pool sees its connection idle again: the next request reuses it.
      await sleep(20);
      upstream.reset();
      upstream.enqueue({ resetBeforeHeaders: true });
      const marker = `stale-${provider}-${stream}`;
      const response = await postChat(gateway.url, ROUTES[provider], chatBody(stream, marker));
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain(stream ? '[DONE]' : '"chat.completion"');
      expect(upstream.requests.map((request) => request.body.includes(marker))).toEqual([
        true,
        true,
      ]);
      // The repeat is an attempt on the wire like any other: logged with the request id.
      const repeats = gateway.logs
        .entries()
        .filter((entry) => entry.requestId === response.headers.get('x-request-id'))
        .filter((entry) => String(entry.msg).startsWith('upstream dropped a reused idle'));
      const path = provider === 'ollama' ? '/api/chat' : '/chat/completions';
      expect(repeats).toMatchObject([{ level: 'warn', provider, path }]);
      // And counted as an attempt, besides the one the route records.
      const attempts = (await gateway.metrics.render())
        .split('\n')
        .find(
          (line) =>
            line.startsWith('aigw_upstream_attempts_total{') &&
            line.includes(`provider="${provider}"`) &&
            line.includes('outcome="stale_connection"'),
        );
      expect(attempts?.split(' ').at(-1)).toBe(String(++staleRepeats[provider]));
    },
  );
});
