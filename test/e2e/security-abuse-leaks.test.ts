/**
 * The security suite of issue 5 (part 2: nothing leaks), on a real socket: canary keys never reach
 * a client, a log line or a metric, even when the upstream echoes them in error bodies, headers
 * and mid-stream error events; the client's credentials never reach the upstream; hostile request
 * ids are replaced, never reflected or logged raw. Part 1 (access) is security-abuse.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDepsFromSettings, buildApp } from '../../src/app.js';
import { gatewayConfigFromSettings } from '../../src/config/gateway-config-from-env.js';
import { loadSettings } from '../../src/config/settings.js';
import { createProviders, providerSecrets } from '../../src/providers/registry.js';
import {
  type FakeResponse,
  type RecordedRequest,
  startFakeUpstream,
} from '../helpers/fake-upstream.js';
import {
  ndjsonResponse,
  ollamaNdjsonLines,
  openAiSseEvents,
  sseEvent,
  sseResponse,
} from '../helpers/fake-upstream-wire.js';
import {
  CLIENT_KEY,
  type GatewayHarness,
  PROVIDER_KEY,
  startGateway,
} from '../helpers/gateway-harness.js';
import { captureLogs } from '../helpers/log-capture.js';
import {
  exchangeAll,
  exchangeOnce,
  headerOf,
  type RawHeader,
  type RawRequest,
  type RawResponse,
} from '../helpers/raw-http.js';

const KEY_HEADER: RawHeader = ['Authorization', `Bearer ${CLIENT_KEY}`];
const chat = (stream: boolean) =>
  JSON.stringify({ model: 'llama3.2', stream, messages: [{ role: 'user', content: 'hi' }] });
const EMBED = JSON.stringify({ model: 'nomic-embed-text', input: 'hi' });

/** Neither key, nor the random tail of either (a scrubber may keep a harmless prefix). */
function expectNoCanary(text: string): void {
  for (const secret of [PROVIDER_KEY, CLIENT_KEY, PROVIDER_KEY.slice(-10), CLIENT_KEY.slice(-10)]) {
    expect(text).not.toContain(secret);
  }
}

/** Every client-visible byte of a response. */
const visible = (response: RawResponse) => `${response.head}\r\n\r\n${response.body}`;

/** What an upstream that echoes secrets says, in every place it could say it. */
const ECHO = `key ${PROVIDER_KEY}; auth: Bearer ${PROVIDER_KEY}; client ${CLIENT_KEY}; https://u:${PROVIDER_KEY}@h.test/?api_key=${CLIENT_KEY}`;
const ECHO_HEADERS = {
  'x-echo-key': PROVIDER_KEY,
  'www-authenticate': `Bearer realm="${PROVIDER_KEY}"`,
  'set-cookie': `session=${CLIENT_KEY}`,
  'retry-after': PROVIDER_KEY,
  location: `https://h.test/?key=${PROVIDER_KEY}`,
};
const ECHO_BODIES: readonly (string | object)[] = [
  { error: { message: ECHO, type: PROVIDER_KEY, code: CLIENT_KEY, param: PROVIDER_KEY } },
  { error: ECHO },
  ECHO,
];
const ECHO_STATUSES = [400, 401, 403, 404, 413, 422, 429, 500, 502, 503];

/** Streams that fail after they began, the error echoing both keys. */
const MID_STREAM: Readonly<Record<'ollama' | 'cerebras', readonly FakeResponse[]>> = {
  cerebras: [
    sseResponse([...openAiSseEvents(['Hi']).slice(0, 2), sseEvent({ error: { message: ECHO } })]),
    sseResponse([sseEvent({ error: { message: ECHO, code: PROVIDER_KEY } })]),
    sseResponse([...openAiSseEvents(['Hi']).slice(0, 2), `event: error\ndata: ${ECHO}\n\n`]),
    sseResponse([...openAiSseEvents(['Hi']).slice(0, 2), `data: {"broken ${ECHO}\n\n`]),
  ],
  ollama: [
    ndjsonResponse([
      ...ollamaNdjsonLines(['Hi'], { done: false }),
      `${JSON.stringify({ error: ECHO })}\n`,
    ]),
    ndjsonResponse([`${JSON.stringify({ error: ECHO })}\n`]),
    ndjsonResponse([...ollamaNdjsonLines(['Hi'], { done: false }), `{"broken ${ECHO}\n`]),
  ],
};

interface EchoCase {
  readonly id: string;
  readonly request: RawRequest;
  readonly plan: FakeResponse;
  /** The passthrough relays upstream bodies as they are (see the credential bugs below). */
  readonly relayedVerbatim: boolean;
  /** Upstream requests it makes: chat and embeddings retry 429, 502 and 503 (two attempts). */
  readonly attempts: number;
}

/** Statuses the pinned chat and embeddings routes retry, under the default policy's 2 attempts. */
const RETRIED = new Set([429, 502, 503]);

/**
 * Every echoing failure on every pinned provider route (the same plan for each attempt of a
 * request; the routed `/v1/...` paths run the same provider code and retry policy).
 */
function echoCases(): EchoCase[] {
  const cases: EchoCase[] = [];
  const add = (method: string, target: string, plan: FakeResponse, body?: string) => {
    const id = `echo-${cases.length}`;
    const headers: RawHeader[] = [KEY_HEADER, ['X-Request-Id', id]];
    const request = { method, target, headers, ...(body === undefined ? {} : { body }) };
    const relayedVerbatim = target.includes('/api/');
    const retried = !relayedVerbatim && method === 'POST' && RETRIED.has(plan.status ?? 200);
    cases.push({ id, request, plan, relayedVerbatim, attempts: retried ? 2 : 1 });
  };
  for (const status of ECHO_STATUSES) {
    for (const body of ECHO_BODIES) {
      const plan: FakeResponse = { status, headers: ECHO_HEADERS, body };
      for (const provider of ['ollama', 'cerebras']) {
        add('POST', `/${provider}/v1/chat/completions`, plan, chat(false));
        add('POST', `/${provider}/v1/chat/completions`, plan, chat(true));
        add('POST', `/${provider}/v1/embeddings`, plan, EMBED);
        add('GET', `/${provider}/v1/models`, plan);
      }
      add('POST', '/ollama/api/chat', plan, chat(false));
    }
  }
  for (const provider of ['ollama', 'cerebras'] as const) {
    for (const plan of MID_STREAM[provider]) {
      add('POST', `/${provider}/v1/chat/completions`, plan, chat(true));
    }
  }
  return cases;
}

describe('canary keys never leave the gateway', () => {
  it('not in any response, log line or metric, whatever the upstream echoes', async () => {
    const gateway = await startGateway();
    try {
      const cases = echoCases();
      const plans = new Map(cases.map((echoCase) => [echoCase.id, echoCase.plan]));
      // Each upstream request gets the plan of the client request it serves (by request id).
      const byRequestId = (recorded: RecordedRequest): FakeResponse => {
        const plan = plans.get(String(recorded.headers['x-request-id']));
        if (plan === undefined) throw new Error('unplanned upstream request');
        return plan;
      };
      const attempts = cases.reduce((sum, echoCase) => sum + echoCase.attempts, 0);
      gateway.upstream.enqueue(...Array.from({ length: attempts }, () => byRequestId));
      const port = Number(new URL(gateway.url).port);
      const requests = cases.map((echoCase) => echoCase.request);
      const responses = await exchangeAll(port, requests, 8);
      expect(gateway.upstream.requests).toHaveLength(attempts);
      const mapped = responses.filter((_, index) => cases[index]?.relayedVerbatim === false);
      // The failures were real: mapped to 4xx, 502, 503 and in-stream errors (200 + error event).
      const statuses = new Set(mapped.map((response) => response.status));
      expect([...statuses].sort((a, b) => a - b)).toEqual([200, 400, 404, 429, 502, 503]);
      for (const response of mapped) expectNoCanary(visible(response));
      expectNoCanary(gateway.logs.text());
      const metrics = await gateway.metrics.render();
      expect(metrics).toContain('upstream_error');
      expect(metrics).not.toContain('canary');
    } finally {
      await gateway.close();
    }
  });
});

describe("the client's credentials never reach the upstream", () => {
  const basic = Buffer.from(`user:${CLIENT_KEY}`).toString('base64');
  const CREDENTIALS: readonly RawHeader[] = [
    KEY_HEADER,
    ['X-Api-Key', CLIENT_KEY],
    ['Cookie', `session=${CLIENT_KEY}; theme=dark`],
    ['Proxy-Authorization', `Basic ${basic}`],
    ['X-Forwarded-For', '203.0.113.7'],
    ['X-Forwarded-Host', 'evil.test'],
    ['Forwarded', 'for=203.0.113.7;host=evil.test'],
  ];
  const ENDPOINTS: readonly (readonly [string, string, string?])[] = [
    ...['', '/ollama', '/cerebras'].flatMap((prefix) => [
      ['POST', `${prefix}/v1/chat/completions`, chat(false)] as const,
      ['POST', `${prefix}/v1/chat/completions`, chat(true)] as const,
      ['POST', `${prefix}/v1/embeddings`, EMBED] as const,
      ['GET', `${prefix}/v1/models`] as const,
    ]),
    ['GET', '/ollama/api/tags'],
    ['GET', '/ollama/api/version'],
    ['POST', '/ollama/api/chat', chat(false)],
    ['POST', '/ollama/api/chat', chat(true)],
    ['POST', '/ollama/api/generate', JSON.stringify({ model: 'llama3.2', prompt: 'hi' })],
    ['POST', '/ollama/api/embed', EMBED],
    ['POST', '/ollama/api/show', JSON.stringify({ model: 'llama3.2' })],
  ];
  let gateway: GatewayHarness;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('on every provider route, the Ollama passthrough included', async () => {
    const requests = ENDPOINTS.map(([method, target, body], index): RawRequest => {
      const headers: RawHeader[] = [...CREDENTIALS, ['X-Request-Id', `creds-${index}`]];
      return { method, target, headers, ...(body === undefined ? {} : { body }) };
    });
    const port = Number(new URL(gateway.url).port);
    const responses = await exchangeAll(port, requests, 4);
    for (const response of responses) expect(response.status).toBeLessThan(500);
    const seen = new Set<string>();
    for (const recorded of gateway.upstream.requests) {
      const { headers } = recorded;
      seen.add(String(headers['x-request-id']));
      const isCerebras = recorded.path.startsWith('/v1/');
      expect(headers.authorization).toBe(isCerebras ? `Bearer ${PROVIDER_KEY}` : undefined);
      for (const name of ['x-api-key', 'cookie', 'proxy-authorization', 'forwarded']) {
        expect(headers, name).not.toHaveProperty(name);
      }
      expect(Object.keys(headers).filter((name) => name.startsWith('x-forwarded-'))).toEqual([]);
      const everything = `${recorded.path} ${JSON.stringify(headers)} ${recorded.body}`;
      expect(everything).not.toContain(CLIENT_KEY);
      expect(everything).not.toContain(basic);
    }
    // Every keyed request but the cached merged /v1/models reached the upstream.
    const expected = requests.map((_, index) => `creds-${index}`).filter((id) => id !== 'creds-3');
    for (const id of expected) expect(seen.has(id), id).toBe(true);
  });

  // BUG (src/http/routes/ollama-passthrough.ts): the passthrough appends the client's raw query
  // string to the upstream path, so a key a client puts in the URL (`?api_key=`, `?key=`, which the
  // gateway itself never accepts) is relayed to the Ollama host and its access logs.
  it('not even a key the client put in the query string of a passthrough call', async () => {
    gateway.upstream.reset();
    const port = Number(new URL(gateway.url).port);
    const target = `/ollama/api/tags?api_key=${CLIENT_KEY}&key=${CLIENT_KEY}`;
    const response = await exchangeAll(port, [{ method: 'GET', target, headers: [KEY_HEADER] }]);
    expect(response[0]?.status).toBe(200);
    expect(gateway.upstream.requests.map((recorded) => recorded.path)).toEqual(['/api/tags']);
  });
});

describe('an Ollama provider configured with a credential (api_key in GATEWAY_CONFIG)', () => {
  /** Shaped like no known key format, so only knowing it as a secret can scrub it. */
  const CREDENTIAL = 'ollama0canary0credential0b9f1c';
  const echo = `credential ${CREDENTIAL} is not valid`;
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let logs: ReturnType<typeof captureLogs>;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    const settings = loadSettings({ ALLOWED_API_KEYS: CLIENT_KEY, OLLAMA_HOST: upstream.url });
    const fromEnv = gatewayConfigFromSettings(settings);
    // As loadConfigFile builds it from `kind: ollama` with `api_key: ${OLLAMA_KEY}`.
    const config = {
      ...fromEnv,
      providers: fromEnv.providers.map((provider) => ({ ...provider, apiKey: CREDENTIAL })),
    };
    logs = captureLogs([...settings.apiKeys, ...providerSecrets(config)]);
    const registry = createProviders(config);
    app = await buildApp(appDepsFromSettings(settings, config, registry.providers, logs.logger));
    app.addHook('onClose', async () => registry.close());
  });
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });
  const post = (url: string, payload: string) =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      payload,
    });
  const SCENARIOS = {
    'the passthrough relaying an upstream 401 body': async () => {
      upstream.enqueue({ status: 401, body: { error: echo } });
      return post('/ollama/api/chat', chat(false));
    },
    'a relayed upstream 400 message': async () => {
      upstream.enqueue({ status: 400, body: { error: echo } });
      return post('/ollama/v1/chat/completions', chat(false));
    },
    'a mid-stream error line': async () => {
      upstream.enqueue(
        ndjsonResponse([
          ...ollamaNdjsonLines(['Hi'], { done: false }),
          `${JSON.stringify({ error: echo })}\n`,
        ]),
      );
      return post('/ollama/v1/chat/completions', chat(true));
    },
  };

  it('sends it upstream and answers each failure as designed (the setup the bugs below need)', async () => {
    const statuses: number[] = [];
    for (const scenario of Object.values(SCENARIOS)) statuses.push((await scenario()).statusCode);
    // The passthrough answers our rejected credential with 502 (never the client's 401).
    expect(statuses).toEqual([502, 400, 200]);
    expect(upstream.requests).toHaveLength(3);
    for (const recorded of upstream.requests) {
      expect(recorded.headers.authorization).toBe(`Bearer ${CREDENTIAL}`);
    }
  });

  // Once a bug: the error handler and the SSE writer log `error.message` as the line's `msg`, and
  // the logger scrubbed only `err.message` and `err.stack`, so a credential in a mid-stream error
  // reached the log. Every logged string is scrubbed now; this keeps it so.
  it('never writes it to the log', async () => {
    await SCENARIOS['a mid-stream error line']();
    expect(logs.text()).not.toContain(CREDENTIAL);
  });

  // Once a bug: the Ollama provider was not told its own credential, so upstream text echoing it
  // was scrubbed only by the generic key patterns, and the passthrough relayed error bodies as they
  // came. Every vendor now gets its secrets (key and header values); this keeps it so.
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    it(`never shows it to the client: ${name}`, async () => {
      const response = await scenario();
      expect(response.body).not.toContain(CREDENTIAL);
    });
  }
});

describe('hostile X-Request-Id values', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const utf8AsLatin1 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');
  /** Values the HTTP parser lets through; each must be replaced by a fresh id. */
  const HOSTILE: readonly (readonly RawHeader[])[] = [
    'abc"def\'ghi',
    'abc","msg":"forged-line","x":"',
    utf8AsLatin1('caf\u00e9'),
    utf8AsLatin1('abc\u2028forged-line'),
    utf8AsLatin1('abc\u202eforged-line'),
    utf8AsLatin1('\u{1F600}'),
    'x'.repeat(65),
    'y'.repeat(4_000),
    'a b',
    'a\tb',
    'a%0d%0aforged-line',
    '../../etc/passwd',
    '<script>forged-line</script>',
    '',
  ]
    .map((value): RawHeader[] => [['X-Request-Id', value]])
    .concat([
      [
        ['X-Request-Id', 'first-id'],
        ['X-Request-Id', 'second-id'],
      ],
    ]);
  /** CR/LF inside the value (folded, bare LF, bare CR) — a line break the parser must refuse. */
  const CRLF = ['\r\n ', '\r\n\t', '\n', '\r'].map((separator) => `abc${separator}forged-line`);

  it('replaces them with a fresh id, never reflects them and never writes them to the log', async () => {
    const gateway = await startGateway();
    try {
      const port = Number(new URL(gateway.url).port);
      const key: RawHeader = ['Authorization', `Bearer ${CLIENT_KEY}`];
      const requests = HOSTILE.flatMap((idHeaders): RawRequest[] => [
        { method: 'GET', target: '/healthz', headers: idHeaders },
        {
          method: 'POST',
          target: '/ollama/v1/chat/completions',
          headers: [...idHeaders, key],
          body: chat(false),
        },
        { method: 'GET', target: '/v1/models', headers: idHeaders },
      ]);
      const responses = await exchangeAll(port, requests, 4);
      const ids = new Set<string>();
      for (const response of responses) {
        const id = headerOf(response, 'x-request-id') ?? '';
        expect(id).toMatch(UUID);
        ids.add(id);
        expect(`${response.head}${response.body}`).not.toMatch(
          /forged|passwd|first-id|xxxxx|yyyyy/,
        );
      }
      expect(ids.size).toBe(requests.length);
      // CR/LF never gets past the HTTP parser: a 400 and no request, no line, no injected header.
      for (const value of CRLF) {
        const raw = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${value}\r\n\r\n`;
        const response = await exchangeOnce(port, raw);
        expect(response.status).toBe(400);
        expect(headerOf(response, 'x-injected')).toBeUndefined();
      }
      // The upstream got the generated ids, not the client's.
      for (const recorded of gateway.upstream.requests) {
        expect(ids.has(String(recorded.headers['x-request-id']))).toBe(true);
      }
      const lines = gateway.logs.text().split('\n').filter(Boolean);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      const access = entries.filter((entry) => entry.msg === 'request completed');
      expect(access).toHaveLength(requests.length);
      // Every line but the listener's start-up line belongs to one of these requests, by its id.
      const served = entries.filter((entry) => !String(entry.msg).startsWith('Server listening'));
      expect(served.length).toBeGreaterThanOrEqual(requests.length);
      for (const entry of served)
        expect(ids.has(String(entry.requestId)), entry.msg as string).toBe(true);
      expect(gateway.logs.text()).not.toMatch(/forged|passwd|first-id|xxxxx|yyyyy|X-Injected/);
    } finally {
      await gateway.close();
    }
  });
});
