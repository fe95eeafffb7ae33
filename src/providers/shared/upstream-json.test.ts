import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../../test/helpers/fake-upstream.js';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.js';
import { callJson, openStream, type UpstreamTarget } from './upstream-json.js';

const SECRET = 'sk-upstream-json-canary-42';
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const ctx = () => ({ signal: new AbortController().signal, requestId: 'r-1', logger });

let fake: FakeUpstream;
let upstream: UpstreamClient;
let target: UpstreamTarget;
beforeAll(async () => {
  fake = await startFakeUpstream();
  upstream = createUpstreamClient({
    provider: 'vendor',
    baseUrl: fake.url,
    headers: {},
    connectTimeoutMs: 1_000,
    firstByteTimeoutMs: 1_000,
    idleTimeoutMs: 1_000,
  });
  target = { upstream, provider: 'vendor', secrets: [SECRET] };
});
beforeEach(() => fake.reset());
afterAll(async () => {
  await upstream.close();
  await fake.close();
});

describe('callJson and openStream: one rule for every provider', () => {
  it.each([200, 201, 203])('take any 2xx (%i) as a success', async (status) => {
    fake.enqueue({ status, body: { ok: true } }, { status, body: 'streamed' });
    const { body, text } = await callJson(target, ctx(), { path: '/x', body: '{}' });
    expect(body).toEqual({ ok: true });
    expect(text).toBe('{"ok":true}');
    const response = await openStream(target, ctx(), { path: '/y', body: '{}' });
    expect(response.status).toBe(status);
    expect(await response.body.text()).toBe('streamed');
    expect(fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /x',
      'POST /y',
    ]);
  });

  it('sends a GET without a body when there is none', async () => {
    fake.enqueue({ body: { data: [] } });
    await callJson(target, ctx(), { path: '/models' });
    expect(fake.requests[0]?.method).toBe('GET');
  });

  it('turns a non-2xx into the upstream failure, naming the model and scrubbing secrets', async () => {
    const rejected = { status: 400, body: { error: { message: `bad key ${SECRET}` } } };
    fake.enqueue(rejected, rejected, { status: 404, body: {} });
    for (const call of [callJson, openStream]) {
      const error = await call(target, ctx(), { path: '/x', body: '{}' }).catch((e) => e);
      expect(error).toMatchObject({ status: 400, code: 'upstream_bad_request' });
      expect(error.message).not.toContain(SECRET);
    }
    const missing = await callJson(target, ctx(), { path: '/x', body: '{}', model: 'm1' }).catch(
      (e) => e,
    );
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found' });
    expect(missing.message).toContain("'m1'");
  });

  it('fails on a 2xx body that is not JSON without quoting it', async () => {
    fake.enqueue({ status: 200, body: `not json ${SECRET}` });
    const error = await callJson(target, ctx(), { path: '/x' }).catch((e) => e);
    expect(error).toMatchObject({ status: 502, code: 'upstream_error' });
    expect(error.message).not.toContain(SECRET);
  });
});
