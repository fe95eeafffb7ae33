/**
 * Clients that hold connections without finishing requests: slow headers (slowloris), slow
 * bodies, and many idle keep-alive connections. Each is cut by a server limit, in the envelope.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';

const gateway = useGateway({
  HEADERS_TIMEOUT_MS: '400',
  REQUEST_TIMEOUT_MS: '800',
  KEEP_ALIVE_TIMEOUT_MS: '300',
});

function open(): Promise<Socket> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the server writes until it closes the socket (≤ 5 s), and when it closed. */
function untilClosed(socket: Socket): Promise<{ text: string; closedAt: number }> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (data: string) => {
      text += data;
    });
    socket.on('error', () => undefined);
    socket.once('close', () => resolve({ text, closedAt: performance.now() }));
    setTimeout(() => socket.destroy(), 5_000).unref();
  });
}

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
