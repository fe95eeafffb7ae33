import { describe, expect, it } from 'vitest';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import { openSocket, untilClosed } from '../helpers/raw-http.js';

const BODY_TIMEOUT_MS = 300;
const gateway = useGateway({ BODY_TIMEOUT_MS: String(BODY_TIMEOUT_MS), LOG_LEVEL: 'info' });

const BODY = JSON.stringify({
  model: 'llama3.2',
  messages: [{ role: 'user', content: 'hello there, a body sent in pieces' }],
});

const open = () => openSocket(gateway.url);

const head = (path: string, framing: string, key = CLIENT_KEY) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ref'd timers of this process: the gateway runs in it, so its body timers are among them. */
const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

const accessLines = () =>
  gateway.logs.entries().filter((entry) => entry.msg === 'request completed');

describe('a stalled request body', () => {
  it.each([
    ['Content-Length: 5000', BODY.slice(0, 60)],
    ['Transfer-Encoding: chunked', `3c\r\n${BODY.slice(0, 60)}\r\n`],
  ])('%s, 60 bytes sent → 408 in the envelope and the socket closed', async (framing, sent) => {
    const socket = await open();
    const closed = untilClosed(socket);
    const started = performance.now();
    socket.write(head('/v1/chat/completions', framing) + sent);
    const { text, closedAt } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text.toLowerCase()).toContain('\r\nconnection: close\r\n');
    expect(text).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown;
    expect(body).toEqual({
      error: {
        message: 'The request was not received in time.',
        type: 'invalid_request_error',
        param: null,
        code: 'request_timeout',
      },
    });
    // Cut after the body timeout, nowhere near the 120 s request timeout.
    expect(closedAt - started).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 20);
    expect(closedAt - started).toBeLessThan(BODY_TIMEOUT_MS + 1_000);
    expect(gateway.upstream.requests).toHaveLength(0);
    expect(accessLines().at(-1)).toMatchObject({ status: 408, errorCode: 'request_timeout' });
  });

  it('a stall after most of the body was sent is cut the same way', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    socket.write(head('/ollama/api/chat', `Content-Length: ${BODY.length}`));
    for (const piece of [BODY.slice(0, 20), BODY.slice(20, 40), BODY.slice(40, -1)]) {
      socket.write(piece);
      await sleep(BODY_TIMEOUT_MS / 3);
    }
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    // The native Ollama API answers in its own error shape, with the same status.
    expect(text).toContain('{"error":"The request was not received in time."}');
    expect(gateway.upstream.requests).toHaveLength(0);
  });
});

describe('a slow body that keeps moving', () => {
  it('is served even though it takes several body timeouts in total', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const started = performance.now();
    socket.write(
      head('/v1/chat/completions', `Content-Length: ${BODY.length}\r\nConnection: close`),
    );
    const pieces = 10;
    const size = Math.ceil(BODY.length / pieces);
    for (let at = 0; at < BODY.length; at += size) {
      socket.write(BODY.slice(at, at + size));
      await sleep(BODY_TIMEOUT_MS / 3);
    }
    const { text } = await closed;
    expect(performance.now() - started).toBeGreaterThan(BODY_TIMEOUT_MS * 3);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(gateway.upstream.requests).toHaveLength(1);
    expect(gateway.upstream.requests[0]?.json).toMatchObject({ model: 'llama3.2' });
  });
});

describe('a client that stalls and then leaves', () => {
  it('frees its timer and socket at once and never reaches the upstream', async () => {
    const before = timers();
    const timedOut = () => accessLines().filter((line) => line.status === 408).length;
    const timedOutBefore = timedOut();
    const socket = await open();
    socket.on('error', () => undefined);
    socket.write(head('/v1/chat/completions', 'Content-Length: 5000') + BODY.slice(0, 60));
    await expect.poll(timers).toBe(before + 1);
    socket.destroy();
    await expect.poll(() => accessLines().at(-1)?.status).toBe(499);
    // Cleared on the request's close, not left to fire after the body timeout.
    expect(timers()).toBe(before);
    await sleep(BODY_TIMEOUT_MS + 100);
    expect(gateway.upstream.requests).toHaveLength(0);
    expect(timedOut()).toBe(timedOutBefore);
    const connections = await new Promise<number>((resolve, reject) =>
      gateway.app.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
    expect(connections).toBe(0);
  });

  it('a body that completes clears its timer too', async () => {
    const before = timers();
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
      body: BODY,
    });
    expect(response.status).toBe(200);
    await response.text();
    expect(timers()).toBe(before);
  });
});

describe('a request refused before its body is read', () => {
  it('keeps the connection for a whole body, cuts a stalled one after the body timeout', async () => {
    const wrongKey = 'wrong-key-0123456789';
    const whole = await open();
    const served = untilClosed(whole);
    whole.write(head('/v1/chat/completions', `Content-Length: ${BODY.length}`, wrongKey) + BODY);
    await sleep(BODY_TIMEOUT_MS * 2);
    // Still open (a keep-alive connection), and the rest of the body was not left to time out.
    expect(whole.destroyed).toBe(false);
    whole.destroy();
    expect((await served).text).toMatch(/^HTTP\/1\.1 401 /);

    const stalled = await open();
    const closed = untilClosed(stalled);
    const started = performance.now();
    stalled.write(
      head('/v1/chat/completions', 'Content-Length: 5000', wrongKey) + BODY.slice(0, 60),
    );
    const { text, closedAt } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    expect(closedAt - started).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 20);
    expect(closedAt - started).toBeLessThan(BODY_TIMEOUT_MS + 1_000);
  });

  it('a malformed URL: a stalled body is cut after the body timeout too', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const started = performance.now();
    socket.write(head('/v1/%zz', 'Content-Length: 5000') + BODY.slice(0, 60));
    const { text, closedAt } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"invalid_url"');
    expect(closedAt - started).toBeGreaterThanOrEqual(BODY_TIMEOUT_MS - 20);
    expect(closedAt - started).toBeLessThan(BODY_TIMEOUT_MS + 1_000);
  });

  it('an unsupported Content-Type: a body that keeps moving is drained, not cut', async () => {
    const socket = await open();
    const closed = untilClosed(socket);
    const pieces = ['{"model":', '"m",', '"messages"', ':[]}'];
    const length = pieces.join('').length;
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Type: application/xml\r\nContent-Length: ${length}\r\n\r\n`,
    );
    for (const piece of pieces) {
      await sleep(BODY_TIMEOUT_MS / 2);
      socket.write(piece);
    }
    // The connection outlived the body by far more than the body timeout: it was reusable.
    await sleep(BODY_TIMEOUT_MS * 2);
    expect(socket.destroyed).toBe(false);
    socket.destroy();
    const { text } = await closed;
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"unsupported_media_type"');
  });
});
