import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../test/helpers/fake-upstream.js';
import { parseConfig } from '../config/config-file.js';
import { gatewayConfigFromSettings } from '../config/gateway-config-from-env.js';
import { ConfigError, loadSettings } from '../config/settings.js';
import { createOpenAiCompatibleProvider } from './openai-compatible/openai-compatible-provider.js';
import { createProviders, type ProviderKind, VENDORS } from './registry.js';
import type { Vendor, VendorProviderSettings } from './vendor.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream.close();
});

/** What the test vendor's factory was called with. */
const created: VendorProviderSettings[] = [];
beforeEach(() => {
  created.length = 0;
  upstream.reset();
});

/** A vendor the registry does not have, as a new one would be added: one descriptor. */
const echoVendor: Vendor<'echo'> = {
  kind: 'echo',
  apiKeyRequired: true,
  auth: 'x-api-key',
  environment: { baseUrlVariable: 'ECHO_BASE_URL', apiKeyVariable: 'ECHO_API_KEY' },
  nativeApi: false,
  create(settings, deps) {
    created.push(settings);
    return createOpenAiCompatibleProvider(settings, deps);
  },
};
// The registry's list with the new descriptor added (its kind is outside ProviderKind, so cast).
const vendors = [...VENDORS, echoVendor] as readonly Vendor<ProviderKind>[];

const timeouts = { connectTimeoutMs: 1_000, firstByteTimeoutMs: 2_000, idleTimeoutMs: 2_000 };
const logger = { debug() {}, info() {}, warn() {}, error() {} };
const ctx = { signal: new AbortController().signal, requestId: 'r-1', logger };
const request = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('a vendor added as one descriptor', () => {
  const file = (fields: string) => `providers:\n  mine: { kind: echo${fields} }\n`;
  const complete = (url: string, extra = '') =>
    file(`, base_url: "${url}/v1", api_key: "\${ECHO_KEY}"${extra}`);
  const env = { ECHO_KEY: 'echo-key-123' };
  const parse = (text: string, known: readonly Vendor<ProviderKind>[] = vendors) =>
    parseConfig(text, 'gateway.yaml', env, { timeouts }, known);

  it('is a kind the config file accepts, built by its factory and sent its key its way', async () => {
    const config = parse(complete(upstream.url));
    expect(config.providers).toMatchObject([
      { name: 'mine', kind: 'echo', apiKey: 'echo-key-123' },
    ]);
    const registry = createProviders(config, {}, vendors);
    try {
      await registry.providers.get('mine')?.chat(request, ctx);
      expect(created).toEqual([{ name: 'mine', secrets: ['echo-key-123'] }]);
      const [sent] = upstream.requests;
      expect(sent?.path).toBe('/v1/chat/completions');
      expect(sent?.headers['x-api-key']).toBe('echo-key-123');
      expect(sent?.headers.authorization).toBeUndefined();
    } finally {
      await registry.close();
    }
  });

  it('is checked by its descriptor: base URL, key, and the header the key is sent in', () => {
    expect(problemsOf(() => parse(file(''), VENDORS))).toEqual([
      'gateway.yaml: providers.mine.kind: must be one of ollama, openai-compatible, cerebras',
    ]);
    expect(problemsOf(() => parse(file('')))).toEqual([
      'gateway.yaml: providers.mine.base_url: is required for kind echo',
      `gateway.yaml: providers.mine.api_key: is required for kind echo (as \${VAR})`,
    ]);
    const headers = `, headers: { x-api-key: "\${ECHO_KEY}", authorization: "\${ECHO_KEY}" }`;
    expect(problemsOf(() => parse(complete('http://127.0.0.1:1', headers)))).toEqual([
      'gateway.yaml: providers.mine.headers.x-api-key: conflicts with api_key (sent as x-api-key)',
    ]);
  });

  it('is configured from its own variables without a config file, and may be the default', async () => {
    const base = { ALLOWED_API_KEYS: 'key-one-1234', ECHO_API_KEY: 'echo-key-123' };
    const settings = loadSettings(
      { ...base, ECHO_BASE_URL: `${upstream.url}/v1` },
      () => 1,
      vendors,
    );
    expect(settings.providers.map((provider) => provider.kind)).toEqual(['ollama', 'echo']);
    // Its variables named it and not Ollama's: it serves the plain /v1 routes.
    expect(settings.defaultProvider).toBe('echo');
    const registry = createProviders(gatewayConfigFromSettings(settings), {}, vendors);
    try {
      await registry.providers.get('echo')?.chat(request, ctx);
      expect(upstream.requests[0]?.headers['x-api-key']).toBe('echo-key-123');
    } finally {
      await registry.close();
    }
    // Without a base URL (it has no default) it is not configured, and cannot be the default.
    expect(loadSettings(base, () => 1, vendors).providers).toHaveLength(1);
    expect(
      problemsOf(() => loadSettings({ ...base, DEFAULT_PROVIDER: 'echo' }, () => 1, vendors)),
    ).toEqual(['DEFAULT_PROVIDER=echo needs ECHO_BASE_URL']);
    expect(
      problemsOf(() => loadSettings({ ...base, DEFAULT_PROVIDER: 'x' }, () => 1, vendors)),
    ).toEqual(['DEFAULT_PROVIDER must be one of ollama, cerebras, echo']);
  });
});

describe('the registered vendors', () => {
  it('have a provider with a native API relay exactly when their descriptor says so', async () => {
    const config = {
      providers: VENDORS.map((vendor) => ({
        name: vendor.kind,
        kind: vendor.kind,
        baseUrl: upstream.url,
        headers: {},
        timeouts,
      })),
    };
    const registry = createProviders(config);
    try {
      for (const vendor of VENDORS) {
        const provider = registry.providers.get(vendor.kind);
        expect(provider?.passthrough !== undefined, vendor.kind).toBe(vendor.nativeApi);
      }
    } finally {
      await registry.close();
    }
  });

  it('name a key variable when they need a key and can be set up from the environment', () => {
    for (const vendor of VENDORS) {
      if (vendor.apiKeyRequired && vendor.environment !== undefined) {
        expect(vendor.environment.apiKeyVariable, vendor.kind).toBeDefined();
      }
    }
  });

  // test/docs.test.ts finds the settings' own variables in settings.ts; these live in descriptors.
  it('have every variable they read documented in .env.example', () => {
    const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const variables = VENDORS.flatMap((vendor) =>
      vendor.environment === undefined
        ? []
        : [vendor.environment.baseUrlVariable, vendor.environment.apiKeyVariable ?? ''],
    ).filter((variable) => variable !== '');
    expect(variables).toEqual(['OLLAMA_HOST', 'CEREBRAS_BASE_URL', 'CEREBRAS_API_KEY']);
    expect(variables.filter((variable) => !text.includes(variable))).toEqual([]);
  });
});
