import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sseEvent } from '../helpers/fake-upstream-wire.js';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';

const WRITE_TIMEOUT_MS = 500;
const gateway = useGateway({ STREAM_WRITE_TIMEOUT_MS: String(WRITE_TIMEOUT_MS) });

/** 16 MiB of chunks: far more than loopback socket buffers hold, so a non-reader blocks. */
function bigStream(): string[] {
  const piece = 'x'.repeat(8 * 1024);
  const event = sseEvent({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
  });
  return [...Array.from({ length: 2_000 }, () => event), 'data: [DONE]\n\n'];
}

describe('a client that never reads', () => {
  it('is dropped after the write timeout, and the upstream with it, without buffering the stream', async () => {
    gateway.upstream.enqueue({
      headers: { 'content-type': 'text/event-stream' },
      chunks: bigStream(),
    });
    const body = JSON.stringify({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const { hostname, port } = new URL(gateway.url);
    const socket = connect(Number(port), hostname);
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    // Send the request, then never read a byte.
    socket.write(
      `POST /cerebras/v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${CLIENT_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    socket.pause();
    const started = performance.now();
    const aborted = await gateway.upstream.waitForAbort(0, 5_000);
    expect(aborted.aborted).toBe(true);
    // Dropped after the write timeout (plus undici's and the kernel's slack), not held forever.
    expect(performance.now() - started).toBeLessThan(WRITE_TIMEOUT_MS + 3_000);
    socket.destroy();
    await closed;
    const access = gateway.logs.entries().find((entry) => entry.msg === 'request completed');
    expect(access).toMatchObject({ status: 499 });
  });
});
