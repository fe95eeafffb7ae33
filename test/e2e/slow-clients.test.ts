import { describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import { openSocket, untilClosed } from '../helpers/raw-http.js';

const gateway = useGateway({
  HEADERS_TIMEOUT_MS: '400',
  REQUEST_TIMEOUT_MS: '800',
  KEEP_ALIVE_TIMEOUT_MS: '300',
});

const open = () => openSocket(gateway.url);

describe('slow and idle clients', () => {
  it('cuts slow headers (slowloris) with a 408 in the envelope', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const started = performance.now();
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => socket.write('X-Slow: 1\r\n'), 100);
    const { text, closedAt } = await closed;
    clearInterval(trickle);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"code":"request_timeout"');
    expect(closedAt - started).toBeLessThan(1_500);
  });

  it('cuts a slow body with a 408 after the request timeout', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const started = performance.now();
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`,
    );
    const trickle = setInterval(() => socket.write(' '), 100);
    const { text, closedAt } = await closed;
    clearInterval(trickle);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAt - started).toBeLessThan(2_500);
    expect(gateway.upstream.requests).toHaveLength(0);
  });

  it('closes many idle keep-alive connections after the keep-alive timeout, serving all along', async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () => open()));
    const closed = sockets.map((socket) => untilClosed(socket));
    const started = performance.now();
    for (const socket of sockets) socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    // A fresh client is still served while 200 idle connections are open.
    const response = await fetch(`${gateway.url}/healthz`);
    expect(response.status).toBe(200);
    const results = await Promise.all(closed);
    for (const { text } of results) expect(text).toMatch(/^HTTP\/1\.1 200 /);
    // Closed by the server's keep-alive timeout (300 ms), not by this test's 5 s guard.
    const latest = Math.max(...results.map((result) => result.closedAt - started));
    expect(latest).toBeLessThan(2_000);
  });
});
