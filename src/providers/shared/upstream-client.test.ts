import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../../test/helpers/fake-upstream.js';
import {
  ClientClosedError,
  GatewayError,
  InvalidRequestError,
  UpstreamError,
} from '../../errors/gateway-error.js';
import { CallAbort } from '../call-signal.js';
import {
  createUpstreamClient,
  ERROR_BODY_LIMIT,
  toUpstreamError,
  type UpstreamClient,
} from './upstream-client.js';

const live = () => new AbortController().signal;
const aborted = () => AbortSignal.abort();
const withCode = (code: string) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });

describe('toUpstreamError', () => {
  it.each([
    ['ConnectTimeoutError', new errors.ConnectTimeoutError(), 'request'],
    ['HeadersTimeoutError', new errors.HeadersTimeoutError(), 'request'],
    ['BodyTimeoutError', new errors.BodyTimeoutError(), 'body'],
  ] as const)('maps undici %s to 504 upstream_timeout', (_name, error, phase) => {
    const mapped = toUpstreamError('cerebras', error, live(), phase);
    expect(mapped).toMatchObject({ status: 504, type: 'api_error', code: 'upstream_timeout' });
    expect(mapped.cause).toBe(error);
    expect(mapped.message).toContain('cerebras');
  });

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'UND_ERR_SOCKET'])(
    'maps %s before the response to 502 upstream_unreachable',
    (code) => {
      const error = withCode(code);
      expect(toUpstreamError('ollama', error, live(), 'request')).toMatchObject({
        status: 502,
        code: 'upstream_unreachable',
        cause: error,
      });
    },
  );

  it('maps a socket error while reading the body to 502 upstream_error (the response broke off)', () => {
    const error = new errors.SocketError('other side closed');
    expect(error.code).toBe('UND_ERR_SOCKET');
    expect(toUpstreamError('ollama', error, live(), 'body')).toMatchObject({
      status: 502,
      code: 'upstream_error',
    });
    expect(toUpstreamError('ollama', withCode('ECONNRESET'), live(), 'body')).toMatchObject({
      code: 'upstream_error',
    });
  });

  it('maps an unknown failure to 502 upstream_error in either phase', () => {
    for (const phase of ['request', 'body'] as const) {
      expect(toUpstreamError('ollama', new TypeError('boom'), live(), phase)).toMatchObject({
        status: 502,
        code: 'upstream_error',
      });
    }
  });

  it.each([
    ['a timeout', new errors.HeadersTimeoutError()],
    ['a socket error', withCode('ECONNRESET')],
    ['an abort', new DOMException('This operation was aborted', 'AbortError')],
    ['anything', 'a string'],
  ])('maps %s to client_closed_request (499) once the signal is aborted', (_name, error) => {
    for (const phase of ['request', 'body'] as const) {
      const mapped = toUpstreamError('cerebras', error, aborted(), phase);
      expect(mapped).toBeInstanceOf(ClientClosedError);
      expect(mapped).toMatchObject({ status: 499, code: 'client_closed_request' });
    }
  });

  it("maps undici's RequestAbortedError to client_closed_request", () => {
    expect(
      toUpstreamError('ollama', new errors.RequestAbortedError(), live(), 'request'),
    ).toMatchObject({ code: 'client_closed_request' });
  });

  it('passes a GatewayError through unchanged, even after an abort', () => {
    const original = new InvalidRequestError('nope', 'upstream_bad_request');
    expect(toUpstreamError('ollama', original, live(), 'request')).toBe(original);
    expect(toUpstreamError('ollama', original, aborted(), 'body')).toBe(original);
    const upstreamError = new UpstreamError('broken');
    expect(toUpstreamError('ollama', upstreamError, live(), 'body')).toBe(upstreamError);
  });
});

describe('how far a failed attempt got (decides whether retrying is safe)', () => {
  const signal = new AbortController().signal;
  const coded = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    [coded('ECONNREFUSED'), 'request', 'not_sent'],
    [coded('ENOTFOUND'), 'request', 'not_sent'],
    [new errors.ConnectTimeoutError(), 'request', 'not_sent'],
    [coded('ECONNRESET'), 'request', 'failed'],
    [coded('UND_ERR_SOCKET'), 'request', 'failed'],
    [new errors.HeadersTimeoutError(), 'request', 'failed'],
    [new Error('odd'), 'request', 'failed'],
    [new errors.BodyTimeoutError(), 'body', 'broken'],
    [coded('UND_ERR_SOCKET'), 'body', 'broken'],
  ] as const)('%s in phase %s → %s', (error, phase, failure) => {
    expect(toUpstreamError('p', error, signal, phase).upstreamFailure).toBe(failure);
  });
});

describe('createUpstreamClient against a fake upstream', () => {
  let upstream: FakeUpstream;
  let client: UpstreamClient;
  const settings = (baseUrl: string) => ({
    provider: 'cerebras',
    baseUrl,
    headers: { authorization: 'Bearer provider-key-123', 'x-vendor': 'yes' },
    connectTimeoutMs: 1_000,
    firstByteTimeoutMs: 2_000,
    idleTimeoutMs: 2_000,
  });

  beforeAll(async () => {
    upstream = await startFakeUpstream();
    client = createUpstreamClient(settings(`${upstream.url}/v1/`));
  });
  afterAll(async () => {
    await client?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.reset();
  });

  it('prefixes the base path, sends the fixed headers, the request id and a JSON content type with a body', async () => {
    const response = await client.request({
      method: 'POST',
      path: '/chat/completions',
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      signal: live(),
      requestId: 'req-123',
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.body.text())).toHaveProperty('object', 'chat.completion');
    const [recorded] = upstream.requests;
    expect(recorded?.method).toBe('POST');
    expect(recorded?.path).toBe('/v1/chat/completions');
    expect(recorded?.headers).toMatchObject({
      authorization: 'Bearer provider-key-123',
      'x-vendor': 'yes',
      'x-request-id': 'req-123',
      'content-type': 'application/json',
      'user-agent': 'ai-gateway',
    });
    expect(recorded?.json).toMatchObject({ model: 'm' });
  });

  it('sends no content type without a body', async () => {
    const response = await client.request({
      method: 'GET',
      path: '/models',
      signal: live(),
      requestId: 'req-456',
    });
    expect(response.status).toBe(200);
    await response.body.dump();
    const [recorded] = upstream.requests;
    expect(recorded?.path).toBe('/v1/models');
    expect(recorded?.headers['content-type']).toBeUndefined();
    expect(recorded?.headers['x-request-id']).toBe('req-456');
  });

  it('uses the path as is when the base URL has none', async () => {
    const bare = createUpstreamClient({ ...settings(upstream.url), provider: 'ollama' });
    try {
      const response = await bare.request({
        method: 'GET',
        path: '/api/tags',
        signal: live(),
        requestId: 'req-789',
      });
      await response.body.dump();
      expect(upstream.requests[0]?.path).toBe('/api/tags');
    } finally {
      await bare.close();
    }
  });

  it.each([
    ['bearer', { authorization: 'Bearer key-abc-123' }, 'x-api-key'],
    ['x-api-key', { 'x-api-key': 'key-abc-123' }, 'authorization'],
  ] as const)('sends the API key in the %s style', async (style, expected, absent) => {
    const keyed = createUpstreamClient({
      ...settings(upstream.url),
      headers: { 'x-vendor': 'yes' },
      apiKey: { value: 'key-abc-123', style },
    });
    try {
      const response = await keyed.request({
        method: 'GET',
        path: '/v1/models',
        signal: live(),
        requestId: 'req-key',
      });
      await response.body.dump();
      expect(upstream.requests[0]?.headers).toMatchObject({ ...expected, 'x-vendor': 'yes' });
      expect(upstream.requests[0]?.headers[absent]).toBeUndefined();
    } finally {
      await keyed.close();
    }
  });

  it('honours a per-request first-byte timeout and maps it to 504', async () => {
    upstream.enqueue({ stallBeforeHeaders: true });
    const failure = client.request({
      method: 'GET',
      path: '/models',
      signal: live(),
      requestId: 'req-slow',
      firstByteTimeoutMs: 50,
    });
    await expect(failure).rejects.toMatchObject({ status: 504, code: 'upstream_timeout' });
    await expect(failure).rejects.toBeInstanceOf(GatewayError);
  });

  it('maps a refused connection to 502 upstream_unreachable', async () => {
    const dead = createUpstreamClient(settings('http://127.0.0.1:1/v1'));
    try {
      await expect(
        dead.request({ method: 'GET', path: '/models', signal: live(), requestId: 'r' }),
      ).rejects.toMatchObject({ status: 502, code: 'upstream_unreachable' });
    } finally {
      await dead.close();
    }
  });

  it('close() releases its connections and refuses further requests', async () => {
    const own = createUpstreamClient(settings(`${upstream.url}/v1`));
    const response = await own.request({
      method: 'GET',
      path: '/models',
      signal: live(),
      requestId: 'r1',
    });
    await response.body.dump();
    const withOwn = upstream.openConnections();
    await own.close();
    // The fake sees the socket close a moment after the pool closed it.
    for (let waited = 0; upstream.openConnections() >= withOwn && waited < 1_000; waited += 10) {
      await sleep(10);
    }
    expect(upstream.openConnections()).toBe(withOwn - 1);
    await expect(
      own.request({ method: 'GET', path: '/models', signal: live(), requestId: 'r2' }),
    ).rejects.toBeInstanceOf(GatewayError);
    expect(upstream.requests).toHaveLength(1);
  });

  describe('requestText: the response read whole', () => {
    const get = (signal: CallAbort | AbortSignal = live(), limitBytes = 1_000) =>
      client.requestText({
        method: 'GET',
        path: '/models',
        signal,
        requestId: 'req-t',
        limitBytes,
      });

    it('returns status, headers and the body as text, split or not, leaving no abort listener', async () => {
      upstream.enqueue({ headers: { 'x-vendor': 'v' }, chunks: ['{"a":"h\u00e9', 'llo"}'] });
      const signal = new CallAbort();
      const response = await get(signal);
      expect(response.status).toBe(200);
      expect(response.headers['x-vendor']).toBe('v');
      expect(JSON.parse(response.text)).toEqual({ a: 'h\u00e9llo' });
      expect(upstream.requests[0]?.headers['x-request-id']).toBe('req-t');
      expect(signal.listenerCount('abort')).toBe(0);
    });

    it('returns an error status with its body instead of failing', async () => {
      upstream.enqueue({ status: 429, headers: { 'retry-after': '3' }, body: { error: 'slow' } });
      const response = await get();
      expect(response).toMatchObject({ status: 429, headers: { 'retry-after': '3' } });
      expect(JSON.parse(response.text)).toEqual({ error: 'slow' });
    });

    it('fails a successful body past the limit with a 502', async () => {
      upstream.enqueue({ body: 'x'.repeat(2_000) });
      await expect(get(live(), 1_000)).rejects.toMatchObject({
        status: 502,
        code: 'upstream_error',
        message: 'The upstream response exceeded 1000 bytes.',
      });
    });

    it('keeps the status of an error body past 64 KiB or cut short, without its text', async () => {
      upstream.enqueue({ status: 503, body: 'e'.repeat(ERROR_BODY_LIMIT + 1) });
      expect(await get(live(), 1_000_000)).toMatchObject({ status: 503, text: '' });
      // Cut short, too: the status is what matters (a 429 stays a 429, with its retry-after).
      upstream.enqueue({
        status: 429,
        headers: { 'retry-after': '2' },
        chunks: ['{"e'],
        end: 'close',
      });
      expect(await get()).toMatchObject({ status: 429, headers: { 'retry-after': '2' }, text: '' });
    });

    it('maps a response that breaks off to 502 and a stalled first byte to 504', async () => {
      upstream.enqueue({ chunks: ['{"a":'], end: 'close' });
      await expect(get()).rejects.toMatchObject({ status: 502, code: 'upstream_error' });
      upstream.enqueue({ stallBeforeHeaders: true });
      await expect(
        client.requestText({
          method: 'GET',
          path: '/models',
          signal: live(),
          requestId: 'r',
          limitBytes: 100,
          firstByteTimeoutMs: 50,
        }),
      ).rejects.toMatchObject({ status: 504, code: 'upstream_timeout' });
    });

    it('stops at once when the caller aborts, before the response or in its body', async () => {
      await expect(get(aborted())).rejects.toBeInstanceOf(ClientClosedError);
      expect(upstream.requests).toHaveLength(0);

      upstream.enqueue({ stallBeforeHeaders: true });
      const waiting = new CallAbort();
      const beforeHeaders = get(waiting);
      await sleep(30);
      waiting.abort(new ClientClosedError());
      await expect(beforeHeaders).rejects.toBeInstanceOf(ClientClosedError);

      upstream.enqueue({ chunks: ['{"a":'], end: 'stall' });
      const reading = new CallAbort();
      const inBody = get(reading);
      await sleep(30);
      reading.abort(new ClientClosedError());
      await expect(inBody).rejects.toBeInstanceOf(ClientClosedError);
      expect(reading.listenerCount('abort')).toBe(0);
      // The upstream sees its connection go: the abort reached the wire.
      for (
        let waited = 0;
        upstream.requests.at(-1)?.aborted !== true && waited < 1_000;
        waited += 10
      ) {
        await sleep(10);
      }
      expect(upstream.requests.at(-1)?.aborted).toBe(true);
    });
  });
});
