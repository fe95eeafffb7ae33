/**
 * Headers over real sockets, with the `openai` SDK (or `fetch` where the SDK cannot send a header
 * as needed): what reaches the upstream (never the client's credentials; always the request id)
 * and what every response carries (security headers, stream headers, a validated x-request-id).
 */
import type OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeUpstream } from '../helpers/fake-upstream.js';
import { DEFAULT_REPLY } from '../helpers/fake-upstream-wire.js';
import { CLIENT_KEY, PROVIDER_KEY, useGateway } from '../helpers/gateway-harness.js';
import {
  clientHeaders,
  MESSAGES,
  onlyRequest,
  PROVIDERS,
  UUID,
} from '../helpers/openai-sdk-helpers.js';

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

const gateway = useGateway();

describe('headers to the upstream', () => {
  const clientSecrets = {
    'x-api-key': 'client-x-api-key-secret',
    cookie: 'session=client-cookie-secret',
    'proxy-authorization': 'Basic client-proxy-secret',
    'x-forwarded-for': '203.0.113.7',
  };

  it('sends these headers at all (control: fetch straight to the fake upstream)', async () => {
    await fetch(`${gateway.upstream.url}/api/version`, { headers: clientHeaders(clientSecrets) });
    expect(onlyRequest(gateway.upstream).headers).toMatchObject({
      ...clientSecrets,
      authorization: `Bearer ${CLIENT_KEY}`,
    });
  });

  for (const provider of PROVIDERS) {
    it(`${provider}: the client's credentials, cookies and X-Forwarded-For never reach it`, async () => {
      await gateway
        .client(provider)
        .chat.completions.create(
          { model: 'm', messages: MESSAGES },
          { headers: { ...clientSecrets } },
        );
      const { headers } = onlyRequest(gateway.upstream);
      for (const name of Object.keys(clientSecrets)) expect(headers).not.toHaveProperty(name);
      expect(headers).not.toHaveProperty('x-forwarded-host');
      expect(headers).not.toHaveProperty('forwarded');
      const expected = provider === 'cerebras' ? `Bearer ${PROVIDER_KEY}` : undefined;
      expect(headers.authorization).toBe(expected);
      expect(JSON.stringify(headers)).not.toContain(CLIENT_KEY);
      expect(JSON.stringify(headers)).not.toContain('secret');
      // Nothing of the client's request is passed through, not even the SDK's own headers.
      expect(Object.keys(headers).filter((name) => name.startsWith('x-stainless'))).toEqual([]);
      expect(headers['user-agent']).toBe('ai-gateway');
    });

    it(`${provider}: the upstream gets the x-request-id the client got back`, async () => {
      const { data, response } = await gateway
        .client(provider)
        .chat.completions.create({ model: 'm', messages: MESSAGES })
        .withResponse();
      expect(data.choices[0]?.message.content).toBe(DEFAULT_REPLY);
      const requestId = response.headers.get('x-request-id');
      expect(requestId).toMatch(UUID);
      expect(onlyRequest(gateway.upstream).headers['x-request-id']).toBe(requestId);
    });
  }

  it('body fields base_url / api_base do not redirect the upstream call', async () => {
    const decoy = await startFakeUpstream();
    try {
      for (const provider of PROVIDERS) {
        gateway.upstream.reset();
        const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming & Record<string, unknown> = {
          model: 'm',
          messages: MESSAGES,
          base_url: decoy.url,
          api_base: `${decoy.url}/v1`,
        };
        const completion = await gateway.client(provider).chat.completions.create(body);
        expect(completion.choices[0]?.message.content).toBe(DEFAULT_REPLY);
        const expectedPath = provider === 'ollama' ? '/api/chat' : '/v1/chat/completions';
        expect(onlyRequest(gateway.upstream).path).toBe(expectedPath);
      }
      expect(decoy.requests).toHaveLength(0);
    } finally {
      await decoy.close();
    }
  });
});

describe('response headers on real sockets', () => {
  function expectSecurityHeaders(response: Response, cacheControl: string): void {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
      expect(response.headers.get(name), name).toBe(value);
    }
    expect(response.headers.get('cache-control')).toBe(cacheControl);
    expect(response.headers.get('x-request-id')).toMatch(UUID);
  }

  const chatBody = (stream: boolean): string =>
    JSON.stringify({ model: 'm', messages: MESSAGES, stream });

  it('JSON completions carry the security headers and x-request-id', async () => {
    for (const prefix of ['/v1', '/cerebras/v1']) {
      const response = await fetch(`${gateway.url}${prefix}/chat/completions`, {
        method: 'POST',
        headers: clientHeaders(),
        body: chatBody(false),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expectSecurityHeaders(response, 'no-store');
      await response.arrayBuffer();
    }
  });

  it('errors carry the security headers and x-request-id', async () => {
    const unauthorized = await fetch(`${gateway.url}/v1/models`);
    expect(unauthorized.status).toBe(401);
    expectSecurityHeaders(unauthorized, 'no-store');
    expect(unauthorized.headers.get('www-authenticate')).toBe('Bearer');
    await unauthorized.arrayBuffer();

    const unknownRoute = await fetch(`${gateway.url}/v1/nothing-here`, {
      headers: clientHeaders(),
    });
    expect(unknownRoute.status).toBe(404);
    expectSecurityHeaders(unknownRoute, 'no-store');
    await unknownRoute.arrayBuffer();
  });

  it('SSE streams carry the stream headers, the security headers and x-request-id', async () => {
    for (const prefix of ['/v1', '/ollama/v1', '/cerebras/v1']) {
      const response = await fetch(`${gateway.url}${prefix}/chat/completions`, {
        method: 'POST',
        headers: clientHeaders(),
        body: chatBody(true),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      expect(response.headers.get('content-encoding')).toBeNull();
      expectSecurityHeaders(response, 'no-cache');
      const text = await response.text();
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    }
  });

  it('health responses carry the security headers too', async () => {
    const response = await fetch(`${gateway.url}/healthz`);
    expectSecurityHeaders(response, 'no-store');
    await response.arrayBuffer();
  });

  it('a valid inbound x-request-id is echoed and forwarded upstream', async () => {
    const inbound = 'client-trace_01.AB';
    const response = await fetch(`${gateway.url}/cerebras/v1/chat/completions`, {
      method: 'POST',
      headers: clientHeaders({ 'x-request-id': inbound }),
      body: chatBody(false),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe(inbound);
    await response.arrayBuffer();
    expect(onlyRequest(gateway.upstream).headers['x-request-id']).toBe(inbound);

    // The SDK's per-request headers take the same path.
    gateway.upstream.reset();
    const { response: sdkResponse } = await gateway
      .client('ollama')
      .chat.completions.create(
        { model: 'm', messages: MESSAGES },
        { headers: { 'x-request-id': 'sdk-1' } },
      )
      .withResponse();
    expect(sdkResponse.headers.get('x-request-id')).toBe('sdk-1');
    expect(onlyRequest(gateway.upstream).headers['x-request-id']).toBe('sdk-1');
  });

  it('a 64-character id is still valid', async () => {
    const inbound = 'a'.repeat(64);
    const response = await fetch(`${gateway.url}/healthz`, {
      headers: { 'x-request-id': inbound },
    });
    expect(response.headers.get('x-request-id')).toBe(inbound);
    await response.arrayBuffer();
  });

  for (const [label, inbound] of [
    ['with a space', 'bad id'],
    ['65 characters', 'a'.repeat(65)],
    ['with markup', '<script>x</script>'],
  ] as const) {
    it(`an invalid inbound x-request-id (${label}) is replaced, not reflected`, async () => {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: clientHeaders({ 'x-request-id': inbound }),
        body: chatBody(false),
      });
      expect(response.status).toBe(200);
      const replaced = response.headers.get('x-request-id');
      expect(replaced).toMatch(UUID);
      await response.arrayBuffer();
      expect(onlyRequest(gateway.upstream).headers['x-request-id']).toBe(replaced);
    });
  }
});
