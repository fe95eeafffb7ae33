import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../test/helpers/fake-upstream.js';
import {
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
} from '../config/gateway-config.js';
import { createProviders, providerSecrets } from './registry.js';

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

  it('lists every provider credential as a secret to scrub', () => {
    expect(providerSecrets(config())).toEqual([
      'csk-registry-test',
      'sk-vendor-test',
      'team-secret',
    ]);
  });
});
