/**
 * Header values derived from client input, audited: the inbound X-Request-Id is echoed on the
 * response and sent upstream only when it is short and plain, else replaced by a fresh UUID; the
 * deployment header never carries a control character from a model name; the native API relays
 * no client header to the upstream. Raw sockets, so every byte Node lets through is tried.
 */
import { describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import { exchangeOnce, headerOf, type RawResponse } from '../helpers/raw-http.js';

const gateway = useGateway();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHAT = JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'hi' }] });

const port = () => Number(new URL(gateway.url).port);

/** A POST with extra header lines written as bytes (latin1: obs-text goes out as sent). */
function post(path: string, extraHeaders: string, body = CHAT): Promise<RawResponse> {
  const head = `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n`;
  return exchangeOnce(port(), Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]));
}

describe('an inbound X-Request-Id', () => {
  it('is kept when it is short and plain, on the response and upstream', async () => {
    const response = await post('/v1/chat/completions', 'X-Request-Id: trace-42.a_B\r\n');
    expect(response.status).toBe(200);
    expect(headerOf(response, 'x-request-id')).toBe('trace-42.a_B');
    expect(gateway.upstream.requests[0]?.headers['x-request-id']).toBe('trace-42.a_B');
  });

  it.each([
    ['a tab inside (the one control character Node lets through)', 'a\tb'],
    ['a space inside', 'a b'],
    ['obs-text (Latin-1 bytes)', 'caf\xe9\xff'],
    ['percent-encoded CR/LF', 'a%0d%0aSet-Cookie:%20x'],
    ['65 characters', 'x'.repeat(65)],
    ['a comma (two values folded)', 'a,b'],
  ])('with %s is replaced by a UUID, on the response and upstream', async (_name, value) => {
    const response = await post('/v1/chat/completions', `X-Request-Id: ${value}\r\n`);
    expect(response.status).toBe(200);
    const id = headerOf(response, 'x-request-id');
    expect(id).toMatch(UUID);
    expect(gateway.upstream.requests[0]?.headers['x-request-id']).toBe(id);
  });

  it('other control bytes and DEL are refused by the HTTP parser itself, never reflected', async () => {
    for (const value of ['a\x00b', 'a\x01b', 'a\x1bb', 'a\x7fb']) {
      const response = await exchangeOnce(
        port(),
        Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${value}\r\n\r\n`, 'latin1'),
      );
      expect(response.status).toBe(400);
      expect(response.head).not.toContain(value);
    }
  });
});

describe('the deployment header', () => {
  it('is visible ASCII, and a model with a control character never gets that far', async () => {
    const served = await post(
      '/v1/chat/completions',
      '',
      JSON.stringify({ model: 'ollama/mod\u00e8le', messages: [{ role: 'user', content: 'x' }] }),
    );
    expect(served.status).toBe(200);
    expect(headerOf(served, 'x-aigw-deployment')).toBe('ollama/mod%C3%A8le');
    const refused = await post(
      '/v1/chat/completions',
      '',
      JSON.stringify({
        model: 'ollama/m\r\nx-evil: 1',
        messages: [{ role: 'user', content: 'x' }],
      }),
    );
    expect(refused.status).toBe(400);
    expect(headerOf(refused, 'x-aigw-deployment')).toBeUndefined();
    expect(headerOf(refused, 'x-evil')).toBeUndefined();
    expect(gateway.upstream.requests).toHaveLength(1);
  });
});

describe('the native API passthrough', () => {
  it('relays no client header upstream, and its own request id is the validated one', async () => {
    const response = await post(
      '/ollama/api/chat',
      'X-Request-Id: bad\tid\r\nX-Forwarded-For: 10.0.0.1\r\nCookie: a=b\r\nX-Custom: a\tb\r\nUser-Agent: evil\r\n',
      JSON.stringify({
        model: 'llama3.2',
        messages: [{ role: 'user', content: 'hi' }],
        stream: false,
      }),
    );
    expect(response.status).toBe(200);
    const upstream = gateway.upstream.requests[0];
    const id = headerOf(response, 'x-request-id');
    expect(id).toMatch(UUID);
    expect(upstream?.headers['x-request-id']).toBe(id);
    expect(Object.keys(upstream?.headers ?? {}).sort()).toEqual([
      'accept',
      'connection',
      'content-length',
      'content-type',
      'host',
      'user-agent',
      'x-request-id',
    ]);
    expect(upstream?.headers['user-agent']).toBe('ai-gateway');
  });
});
