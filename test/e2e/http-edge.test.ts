import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_KEY, type GatewayHarness, startGateway } from '../helpers/gateway-harness.js';

let gateway: GatewayHarness | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** Sends raw bytes and resolves with everything the server wrote until it closed (≤ 3 s). */
function rawExchange(url: string, payload: string): Promise<string> {
  return rawConnection(url, payload).response;
}

function rawConnection(url: string, payload: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname, () => socket.write(payload));
  const response = new Promise<string>((resolve, reject) => {
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      received += data;
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
    socket.setTimeout(3_000, () => socket.destroy(new Error(`no close within 3 s: ${received}`)));
  });
  return { socket, response };
}

function parseRawResponse(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => {
      const index = line.indexOf(':');
      return [line.slice(0, index).toLowerCase(), line.slice(index + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body };
}

describe('HTTP edge cases on a real socket', () => {
  it('answers malformed HTTP with the envelope and closes', async () => {
    gateway = await startGateway();
    const response = parseRawResponse(await rawExchange(gateway.url, 'BLAH /\r\n\r\n'));
    expect(response.status).toBe(400);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers.connection).toBe('close');
    expect(JSON.parse(response.body)).toMatchObject({
      error: { type: 'invalid_request_error', code: 'malformed_request' },
    });
  });

  it('answers oversized headers with 431 in the envelope', async () => {
    gateway = await startGateway();
    const raw = await rawExchange(
      gateway.url,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const response = parseRawResponse(raw);
    expect(response.status).toBe(431);
    expect(JSON.parse(response.body)).toMatchObject({
      error: { code: 'request_headers_too_large' },
    });
  });

  it('answers a malformed URL with 400 invalid_url, request id and security headers', async () => {
    gateway = await startGateway();
    const raw = await rawExchange(
      gateway.url,
      'GET /v1/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const response = parseRawResponse(raw);
    expect(response.status).toBe(400);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'invalid_url' } });
    expect(response.body).not.toContain('%E0');
  });

  it('drains on close: the in-flight stream completes, a request behind it gets 503', async () => {
    gateway = await startGateway();
    gateway.upstream.enqueue({
      headers: { 'content-type': 'application/x-ndjson' },
      chunks: [
        '{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":"a"},"done":false}\n',
        { delayMs: 300 },
        '{"model":"m","created_at":"2025-01-01T00:00:00Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}\n',
      ],
    });
    const body = JSON.stringify({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const first = `POST /ollama/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    const second = `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\n\r\n`;
    const connection = rawConnection(gateway.url, first);
    await gateway.upstream.waitForRequests(1);
    const closed = gateway.app.close();
    // Sent after close() began, on a connection that is busy (so not closed as idle).
    connection.socket.write(second);
    const raw = await connection.response;
    await closed;
    expect(raw).toContain('data: [DONE]');
    const secondResponse = raw.slice(raw.indexOf('HTTP/1.1', 10));
    expect(secondResponse).toMatch(/^HTTP\/1\.1 503/);
    expect(secondResponse).toContain('"code":"server_shutting_down"');
  });
});

describe('shutdown with a silent connection', () => {
  it('closes a connection that never sent a request instead of waiting for its headers timeout', async () => {
    gateway = await startGateway();
    const { hostname, port } = new URL(gateway.url);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const closedByServer = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const started = performance.now();
    await gateway.app.close();
    await closedByServer;
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('CORS on a real socket', () => {
  it('answers an allowed preflight without a key and tags the real response', async () => {
    gateway = await startGateway({ CORS_ALLOWED_ORIGINS: 'https://app.example.com' });
    const preflight = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    const response = await fetch(`${gateway.url}/v1/models`, {
      headers: { origin: 'https://app.example.com', authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(response.headers.get('vary')).toContain('Origin');
    const foreign = await fetch(`${gateway.url}/v1/models`, {
      headers: { origin: 'https://evil.example.com', authorization: `Bearer ${CLIENT_KEY}` },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });
});
