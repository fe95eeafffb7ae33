import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../test/helpers/fake-upstream.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
} from '../config/gateway-config.js';
import {
  createIdGenerator,
  createProviders,
  type ProviderConfig,
  providerSecrets,
} from './registry.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(async () => {
  await upstream.close();
});

const timeouts = { connectTimeoutMs: 1_000, firstByteTimeoutMs: 2_000, idleTimeoutMs: 2_000 };
const logger = { debug() {}, info() {}, warn() {}, error() {} };

function config(): GatewayConfig {
  return {
    prices: new Map(),
    providers: [
      { name: 'gpu-box', kind: 'ollama', baseUrl: upstream.url, headers: {}, timeouts },
      {
        name: 'fast',
        kind: 'cerebras',
        baseUrl: `${upstream.url}/v1`,
        apiKey: 'csk-registry-test',
        headers: {},
        timeouts,
      },
      {
        name: 'vendor',
        kind: 'openai-compatible',
        baseUrl: `${upstream.url}/v1`,
        apiKey: 'sk-vendor-test',
        headers: { 'x-team': 'team-secret' },
        timeouts,
      },
    ],
    models: [],
    defaultProvider: 'gpu-box',
    retry: DEFAULT_RETRY_POLICY,
    cooldown: DEFAULT_COOLDOWN_POLICY,
  };
}

describe('createProviders', () => {
  it('builds one provider per configured name, of its kind, with its credentials', async () => {
    const registry = createProviders(config());
    try {
      expect([...registry.providers.keys()]).toEqual(['gpu-box', 'fast', 'vendor']);
      const ctx = { signal: new AbortController().signal, requestId: 'r-1', logger };
      const request = {
        model: 'm',
        messages: [{ role: 'user' as const, content: 'hi' }],
        frequency_penalty: 0.5,
      };
      await registry.providers.get('gpu-box')?.chat(request, ctx);
      await registry.providers.get('fast')?.chat(request, ctx);
      await registry.providers.get('vendor')?.chat(request, ctx);
      const [ollama, cerebras, vendor] = upstream.requests;
      expect(ollama?.path).toBe('/api/chat');
      expect(ollama?.headers.authorization).toBeUndefined();
      expect(cerebras?.headers.authorization).toBe('Bearer csk-registry-test');
      // The Cerebras preset drops what Cerebras rejects; a plain compatible vendor keeps it.
      expect(cerebras?.json).not.toHaveProperty('frequency_penalty');
      expect(vendor?.json).toHaveProperty('frequency_penalty', 0.5);
      expect(vendor?.headers).toMatchObject({
        authorization: 'Bearer sk-vendor-test',
        'x-team': 'team-secret',
      });
    } finally {
      await registry.close();
    }
  });

  it('refuses a kind no vendor has (the config file is checked against the same list)', () => {
    const [first] = config().providers;
    const stray = { ...first, kind: 'gopher' } as unknown as ProviderConfig;
    expect(() => createProviders({ providers: [stray] })).toThrow(
      "No vendor of kind 'gopher' is registered.",
    );
  });

  it('lists every provider credential as a secret to scrub', () => {
    expect(providerSecrets(config())).toEqual([
      'csk-registry-test',
      'sk-vendor-test',
      'team-secret',
    ]);
  });
});

describe('createIdGenerator', () => {
  it('makes 24-character URL-safe ids, all different, from one draw per 256 ids', () => {
    const sizes: number[] = [];
    const generateId = createIdGenerator((size) => {
      sizes.push(size);
      return randomBytes(size);
    });
    const ids = Array.from({ length: 600 }, generateId);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(new Set(ids).size).toBe(600);
    expect(sizes).toEqual([18 * 256, 18 * 256, 18 * 256]);
  });

  it('cuts each id from its own bytes of the pool, in order', () => {
    const pool = Buffer.from(Array.from({ length: 18 * 256 }, (_, index) => index % 251));
    const generateId = createIdGenerator(() => pool);
    expect(generateId()).toBe(pool.subarray(0, 18).toString('base64url'));
    expect(generateId()).toBe(pool.subarray(18, 36).toString('base64url'));
  });
});
