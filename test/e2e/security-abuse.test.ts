/**
 * The security suite of issue 5 (part 1: access), on a real socket in front of the fake upstream:
 * no unauthenticated 2xx on any route under path variants, methods and header forms, and no
 * upstream call without the key; CORS echoes the exact allowlisted origin only. Part 2 (what must
 * not leak) is security-abuse-leaks.test.ts. Requests go over raw `node:net` sockets because fetch
 * resolves `.` and `..` in paths, refuses some methods and merges duplicate headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../helpers/fake-upstream.js';
import { CLIENT_KEY, type GatewayHarness, startGateway } from '../helpers/gateway-harness.js';
import { exchangeAll, headerOf, type RawHeader, type RawRequest } from '../helpers/raw-http.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
type Method = (typeof METHODS)[number];

interface RouteCase {
  readonly path: string;
  /** Methods that reach a handler that answers 2xx with a valid key. */
  readonly serves: readonly Method[];
  readonly public?: boolean;
}

const PROVIDER_ROUTES = ['', '/ollama', '/cerebras'].flatMap((prefix): RouteCase[] => [
  { path: `${prefix}/v1/chat/completions`, serves: ['POST'] },
  { path: `${prefix}/v1/embeddings`, serves: ['POST'] },
  { path: `${prefix}/v1/models`, serves: ['GET', 'HEAD'] },
]);

/** Every route the app registers (app.ts), plus an unknown provider and an unknown path. */
const ROUTES: readonly RouteCase[] = [
  ...PROVIDER_ROUTES,
  { path: '/ollama/api/tags', serves: ['GET'] },
  { path: '/ollama/api/version', serves: ['GET'] },
  { path: '/ollama/api/chat', serves: ['POST'] },
  { path: '/ollama/api/embed', serves: ['POST'] },
  { path: '/ollama/api/delete', serves: [] },
  { path: '/ollama/api/blobs/sha256-0', serves: [] },
  { path: '/groq/v1/chat/completions', serves: [] },
  { path: '/cerebras/api/tags', serves: [] },
  { path: '/metrics', serves: [] },
  { path: '/healthz', serves: ['GET', 'HEAD'], public: true },
  { path: '/readyz', serves: ['GET', 'HEAD'], public: true },
];

interface PathVariant {
  readonly name: string;
  readonly target: (path: string) => string;
  /** The router resolves it to the route itself. */
  readonly resolves: boolean;
}

const PATH_VARIANTS: readonly PathVariant[] = [
  { name: 'exact', target: (path) => path, resolves: true },
  { name: 'query', target: (path) => `${path}?x=1`, resolves: true },
  { name: 'percent-encoded letter', target: (path) => percentEncodeAt(path, 2), resolves: true },
  { name: 'upper case', target: (path) => path.toUpperCase(), resolves: false },
  { name: 'trailing slash', target: (path) => `${path}/`, resolves: false },
  { name: 'double slash', target: (path) => `/${path}`, resolves: false },
  { name: 'encoded slash', target: encodeSecondSlash, resolves: false },
  { name: 'dot-dot', target: (path) => `/zz/..${path}`, resolves: false },
  { name: 'dot', target: (path) => `/.${path}`, resolves: false },
];

function percentEncodeAt(path: string, index: number): string {
  const code = path.charCodeAt(index).toString(16).toUpperCase();
  return `${path.slice(0, index)}%${code}${path.slice(index + 1)}`;
}

function encodeSecondSlash(path: string): string {
  const slash = path.indexOf('/', 1);
  return slash === -1
    ? `/%2F${path.slice(1)}`
    : `${path.slice(0, slash)}%2F${path.slice(slash + 1)}`;
}

interface HeaderForm {
  readonly name: string;
  readonly headers: readonly RawHeader[];
  readonly query?: string;
  /** Whether the gateway is expected to accept it as the real key. */
  readonly grantsAccess: boolean;
}

const WRONG_KEY = 'canary-client-key-000000';
const flipped = `${CLIENT_KEY.slice(0, -1)}${CLIENT_KEY.endsWith('c') ? 'd' : 'c'}`;

const HEADER_FORMS: readonly HeaderForm[] = [
  { name: 'no key', headers: [], grantsAccess: false },
  { name: 'Bearer, empty', headers: [['Authorization', 'Bearer ']], grantsAccess: false },
  { name: 'Bearer alone', headers: [['Authorization', 'Bearer']], grantsAccess: false },
  {
    name: 'Basic scheme',
    headers: [['Authorization', `Basic ${CLIENT_KEY}`]],
    grantsAccess: false,
  },
  {
    name: 'Token scheme',
    headers: [['Authorization', `Token ${CLIENT_KEY}`]],
    grantsAccess: false,
  },
  { name: 'no scheme', headers: [['Authorization', CLIENT_KEY]], grantsAccess: false },
  {
    name: 'key + 1 char',
    headers: [['Authorization', `Bearer ${CLIENT_KEY}x`]],
    grantsAccess: false,
  },
  {
    name: 'key - 1 char',
    headers: [['Authorization', `Bearer ${CLIENT_KEY.slice(0, -1)}`]],
    grantsAccess: false,
  },
  {
    name: 'key, last char changed',
    headers: [['Authorization', `Bearer ${flipped}`]],
    grantsAccess: false,
  },
  {
    name: 'key in upper case',
    headers: [['Authorization', `Bearer ${CLIENT_KEY.toUpperCase()}`]],
    grantsAccess: false,
  },
  {
    name: 'key then junk',
    headers: [['Authorization', `Bearer ${CLIENT_KEY} extra`]],
    grantsAccess: false,
  },
  {
    name: 'two Authorization, wrong first',
    headers: [
      ['Authorization', `Bearer ${WRONG_KEY}`],
      ['Authorization', `Bearer ${CLIENT_KEY}`],
    ],
    grantsAccess: false,
  },
  {
    name: 'two x-api-key',
    headers: [
      ['x-api-key', CLIENT_KEY],
      ['x-api-key', CLIENT_KEY],
    ],
    grantsAccess: false,
  },
  {
    name: 'wrong Authorization, right x-api-key',
    headers: [
      ['Authorization', `Bearer ${WRONG_KEY}`],
      ['x-api-key', CLIENT_KEY],
    ],
    grantsAccess: false,
  },
  { name: '?api_key=', headers: [], query: `api_key=${CLIENT_KEY}`, grantsAccess: false },
  { name: '?key=', headers: [], query: `key=${CLIENT_KEY}`, grantsAccess: false },
  {
    name: 'cookie',
    headers: [['Cookie', `api_key=${CLIENT_KEY}; authorization=Bearer%20${CLIENT_KEY}`]],
    grantsAccess: false,
  },
  {
    name: 'Proxy-Authorization',
    headers: [['Proxy-Authorization', `Bearer ${CLIENT_KEY}`]],
    grantsAccess: false,
  },
  // Controls: the real key in the forms the gateway accepts.
  { name: 'Bearer', headers: [['Authorization', `Bearer ${CLIENT_KEY}`]], grantsAccess: true },
  { name: 'bearer', headers: [['authorization', `bearer ${CLIENT_KEY}`]], grantsAccess: true },
  { name: 'BEARER', headers: [['AUTHORIZATION', `BEARER ${CLIENT_KEY}`]], grantsAccess: true },
  { name: 'x-api-key', headers: [['X-Api-Key', CLIENT_KEY]], grantsAccess: true },
  {
    // Node keeps the first of two Authorization headers and drops the second.
    name: 'two Authorization, right first',
    headers: [
      ['Authorization', `Bearer ${CLIENT_KEY}`],
      ['Authorization', `Bearer ${WRONG_KEY}`],
    ],
    grantsAccess: true,
  },
];

const BODY = JSON.stringify({
  model: 'llama3.2',
  messages: [{ role: 'user', content: 'hi' }],
  input: 'hi',
  stream: false,
});

interface MatrixCase {
  readonly id: string;
  readonly route: RouteCase;
  readonly variant: PathVariant;
  readonly method: Method;
  readonly form: HeaderForm;
  readonly request: RawRequest;
}

function matrix(forms: readonly HeaderForm[], tag: string): MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const route of ROUTES)
    for (const variant of PATH_VARIANTS)
      for (const method of METHODS)
        for (const form of forms) {
          const id = `${tag}-${cases.length}`;
          let target = variant.target(route.path);
          if (form.query !== undefined)
            target += `${target.includes('?') ? '&' : '?'}${form.query}`;
          const withBody = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
          const request: RawRequest = {
            method,
            target,
            headers: [...form.headers, ['X-Request-Id', id]],
            ...(withBody ? { body: BODY } : {}),
          };
          cases.push({ id, route, variant, method, form, request });
        }
  return cases;
}

/** The only 2xx allowed: a served method on the route itself, with the key unless public. */
function mayBe2xx(testCase: MatrixCase): boolean {
  const { route, variant, method, form } = testCase;
  return (
    variant.resolves &&
    route.serves.includes(method) &&
    (form.grantsAccess || route.public === true)
  );
}

/** Every case whose outcome broke the rules, as `METHOD target [form] → status`. */
function violations(
  cases: readonly MatrixCase[],
  statuses: readonly (number | undefined)[],
  expectedStatus: (testCase: MatrixCase, status: number) => boolean,
): string[] {
  return cases.flatMap((testCase, index) => {
    const status = statuses[index] ?? 0;
    const is2xx = status >= 200 && status < 300;
    if (is2xx === mayBe2xx(testCase) && status < 500 && expectedStatus(testCase, status)) return [];
    const { method, target } = testCase.request;
    return [`${method} ${target} [${testCase.form.name}] → ${status}`];
  });
}

/**
 * Each matrix is thousands of requests: the denied one, over 20,000, took 4–10 s on this machine's
 * two cores depending on what else ran, and timed out at the default 10 s in a loaded CI run.
 */
const MATRIX_OPTIONS = { timeout: 30_000 };

describe('no unauthenticated 2xx, whatever the path, method or header form', MATRIX_OPTIONS, () => {
  let gateway: GatewayHarness;
  let port: number;
  beforeAll(async () => {
    gateway = await startGateway({ LOG_LEVEL: 'warn' });
    port = Number(new URL(gateway.url).port);
  });
  afterAll(async () => {
    await gateway?.close();
  });

  const upstreamIds = (requests: readonly RecordedRequest[]) =>
    requests.map((request) => String(request.headers['x-request-id']));

  it('refuses every request without the real key with 401, and calls no upstream for it', async () => {
    const cases = matrix(
      HEADER_FORMS.filter((form) => !form.grantsAccess),
      'deny',
    );
    expect(cases.length).toBeGreaterThan(20_000);
    gateway.upstream.reset();
    const responses = await exchangeAll(
      port,
      cases.map((testCase) => testCase.request),
    );
    const statuses = responses.map((response) => response.status);
    // Public health routes answer for themselves; everything else is a 401 with the challenge.
    expect(
      violations(cases, statuses, (testCase, status) => mayBe2xx(testCase) || status === 401),
    ).toEqual([]);
    responses.forEach((response, index) => {
      if (response.status === 401)
        expect(response.head, cases[index]?.id).toMatch(/^www-authenticate: Bearer$/im);
    });
    // The only upstream traffic is the model listing the public readiness probe asks for.
    for (const id of upstreamIds(gateway.upstream.requests)) expect(id).toMatch(/^model-listing-/);
  });

  it('answers 2xx to the real key exactly on the served routes and methods, never 5xx', async () => {
    const cases = matrix(
      HEADER_FORMS.filter((form) => form.grantsAccess),
      'allow',
    );
    gateway.upstream.reset();
    const responses = await exchangeAll(
      port,
      cases.map((testCase) => testCase.request),
    );
    const statuses = responses.map((response) => response.status);
    expect(violations(cases, statuses, () => true)).toEqual([]);
    // The control is live: 5 key forms × 60 served (route, variant, method) triples.
    expect(statuses.filter((status) => status >= 200 && status < 300)).toHaveLength(300);
    // Every upstream call was made for one of these keyed requests (or a cached listing/probe).
    const ids = new Set(cases.map((testCase) => testCase.id));
    const calls = upstreamIds(gateway.upstream.requests);
    expect(calls.length).toBeGreaterThan(0);
    for (const id of calls) expect(ids.has(id) || /^(readyz|models)-/.test(id), id).toBe(true);
  });
});

describe('CORS echoes only the exact allowlisted origin', () => {
  const ALLOWED = 'https://app.example.com';
  const LOOK_ALIKES = [
    'https://app.example.com.evil.com',
    'https://evil.com/https://app.example.com',
    'null',
    'HTTPS://APP.EXAMPLE.COM',
    'https://APP.example.com',
    'https://app.example.com/',
    'https://app.example.com:443',
    'https://app.example.com:8443',
    'http://app.example.com',
    'https://sub.app.example.com',
    'https://app.example.co',
    'https://app-example.com',
    'https://app.example.com%2F',
    'https://app.example.com, https://evil.com',
    '*',
  ];
  /** Single Origin headers, then two Origin headers in both orders (Node joins them). */
  const ORIGIN_HEADERS: readonly (readonly RawHeader[])[] = [
    ...LOOK_ALIKES.map((origin): RawHeader[] => [['Origin', origin]]),
    [
      ['Origin', 'https://evil.com'],
      ['Origin', ALLOWED],
    ],
    [
      ['Origin', ALLOWED],
      ['Origin', 'https://evil.com'],
    ],
  ];
  const key: RawHeader = ['Authorization', `Bearer ${CLIENT_KEY}`];
  const requestsWith = (origin: readonly RawHeader[]): RawRequest[] => [
    {
      method: 'OPTIONS',
      target: '/v1/chat/completions',
      headers: [
        ...origin,
        ['Access-Control-Request-Method', 'POST'],
        ['Access-Control-Request-Headers', 'authorization, content-type'],
      ],
    },
    { method: 'GET', target: '/v1/models', headers: [...origin, key] },
    {
      method: 'POST',
      target: '/ollama/v1/chat/completions',
      headers: [...origin, key],
      body: BODY,
    },
    { method: 'GET', target: '/v1/models', headers: origin },
    { method: 'GET', target: '/healthz', headers: origin },
  ];

  it('never sends access-control-allow-origin to a look-alike, and never `*`', async () => {
    const gateway = await startGateway({ CORS_ALLOWED_ORIGINS: ALLOWED, LOG_LEVEL: 'warn' });
    try {
      const port = Number(new URL(gateway.url).port);
      const denied = ORIGIN_HEADERS.flatMap(requestsWith);
      const responses = await exchangeAll(port, [
        ...denied,
        ...requestsWith([['Origin', ALLOWED]]),
      ]);
      const allowed = responses.splice(denied.length);
      for (const response of responses) {
        expect(response.status).toBeLessThan(500);
        expect(headerOf(response, 'access-control-allow-origin')).toBeUndefined();
        expect(headerOf(response, 'access-control-allow-credentials')).toBeUndefined();
      }
      // The control: the exact origin is echoed (with Vary) on the preflight and the successes.
      const [preflight, models, chat] = allowed;
      for (const response of [preflight, models, chat]) {
        expect(response && headerOf(response, 'access-control-allow-origin')).toBe(ALLOWED);
        expect(response && headerOf(response, 'vary')).toMatch(/origin/i);
      }
      expect([preflight?.status, models?.status, chat?.status]).toEqual([204, 200, 200]);
      for (const response of [...responses, ...allowed]) {
        for (const [name, value] of response.headers) {
          if (name.startsWith('access-control-')) expect(value, name).not.toBe('*');
        }
      }
    } finally {
      await gateway.close();
    }
  });
});
