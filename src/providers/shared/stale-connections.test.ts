import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors/gateway-error.js';
import {
  STALE_WINDOW_MS,
  type StaleConnections,
  watchStaleConnections,
} from './stale-connections.js';
import {
  createUpstreamClient,
  type UpstreamClient,
  type UpstreamRequestOptions,
} from './upstream-client.js';

/**
 * What the raw upstream does with one request: answer it, drop the connection without a byte
 * (an idle close racing the request), or drop it after part of a status line.
 */
type Behaviour = 'answer' | 'drop' | 'drop-after-partial';

interface RawUpstream {
  readonly url: string;
  /** Requests seen, with the connection (1-based) each came on. */
  readonly seen: { connection: number }[];
  /** Behaviours for the next requests, in order; then `answer`. */
  readonly plan: Behaviour[];
  close(): Promise<void>;
}

const BODY = '{"ok":true}';
const ANSWER = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${BODY.length}\r\nconnection: keep-alive\r\n\r\n${BODY}`;

/** An HTTP/1.1 upstream on raw sockets, so a test decides exactly what each connection sees. */
async function startRawUpstream(): Promise<RawUpstream> {
  const seen: { connection: number }[] = [];
  const plan: Behaviour[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((socket) => {
    const connection = ++connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        buffered = buffered.slice(headEnd + 4 + length);
        seen.push({ connection });
        const behaviour = plan.shift() ?? 'answer';
        if (behaviour === 'answer') socket.write(ANSWER);
        else if (behaviour === 'drop') socket.destroy();
        else socket.end('HTTP/1.1 20');
        if (behaviour !== 'answer') return;
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    seen,
    plan,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const settings = (baseUrl: string) => ({
  provider: 'vendor',
  baseUrl,
  connectTimeoutMs: 1_000,
  firstByteTimeoutMs: 2_000,
  idleTimeoutMs: 2_000,
});

/** Both ways of calling: a streamed response read here, or the response read whole. */
const calls = [
  [
    'request',
    async (client: UpstreamClient, options: UpstreamRequestOptions) => {
      const response = await client.request(options);
      return { status: response.status, text: await response.body.text() };
    },
  ],
  [
    'requestText',
    async (client: UpstreamClient, options: UpstreamRequestOptions) => {
      const { status, text } = await client.requestText({ ...options, limitBytes: 10_000 });
      return { status, text };
    },
  ],
] as const;

describe.each(calls)('stale keep-alive connections (%s)', (_name, call) => {
  let upstream: RawUpstream;
  let watcher: StaleConnections;
  let client: UpstreamClient;

  const post = async (signal = new AbortController().signal) => {
    const response = await call(client, {
      method: 'POST',
      path: '/chat/completions',
      body: '{"model":"m"}',
      signal,
      requestId: 'req-stale',
    });
    // Let the pool see the connection idle again, or it opens another one for the next request.
    await sleep(20);
    return response;
  };

  let repeats: string[] = [];
  const start = async (now?: () => number) => {
    upstream = await startRawUpstream();
    watcher = watchStaleConnections(now);
    repeats = [];
    client = createUpstreamClient(settings(upstream.url), {
      staleConnections: watcher,
      onStaleRepeat: (provider) => repeats.push(provider),
    });
  };

  afterEach(async () => {
    await client?.close();
    watcher?.close();
    await upstream?.close();
  });

  it('sends a request once more when the upstream dropped the reused connection under it', async () => {
    await start();
    expect(await post()).toEqual({ status: 200, text: BODY });
    upstream.plan.push('drop');
    expect(await post()).toEqual({ status: 200, text: BODY });
    // The dropped request came on the first connection, the repeat on a new one.
    expect(upstream.seen).toEqual([{ connection: 1 }, { connection: 1 }, { connection: 2 }]);
    expect(repeats).toEqual(['vendor']);
  });

  it('repeats it only once: a second drop is a 502 upstream_unreachable', async () => {
    await start();
    await post();
    upstream.plan.push('drop', 'drop');
    await expect(post()).rejects.toMatchObject({ status: 502, code: 'upstream_unreachable' });
    expect(upstream.seen).toHaveLength(3);
    expect(repeats).toEqual(['vendor']);
  });

  it('never repeats a request whose connection was new: the upstream may have read it', async () => {
    await start();
    upstream.plan.push('drop');
    const failure = post();
    await expect(failure).rejects.toBeInstanceOf(GatewayError);
    await expect(failure).rejects.toMatchObject({ status: 502, upstreamFailure: 'failed' });
    expect(upstream.seen).toHaveLength(1);
    expect(repeats).toEqual([]);
  });

  it('never repeats a request once a byte of its response arrived', async () => {
    await start();
    await post();
    upstream.plan.push('drop-after-partial');
    await expect(post()).rejects.toMatchObject({ status: 502 });
    expect(upstream.seen).toHaveLength(2);
  });

  it('never repeats a request lost later than one round trip: the model may be generating', async () => {
    // Each reading of this clock is a window later than the one before.
    let clock = 0;
    await start(() => {
      clock += STALE_WINDOW_MS + 1;
      return clock;
    });
    await post();
    upstream.plan.push('drop');
    await expect(post()).rejects.toMatchObject({ status: 502, upstreamFailure: 'failed' });
    expect(upstream.seen).toHaveLength(2);
  });

  it('stops recognising stale connections once closed', async () => {
    await start();
    watcher.close();
    await post();
    upstream.plan.push('drop');
    await expect(post()).rejects.toMatchObject({ status: 502 });
    expect(upstream.seen).toHaveLength(2);
  });

  it('recognises only errors it saw', async () => {
    await start();
    expect(watcher.isStale(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
    expect(watcher.isStale(undefined)).toBe(false);
    expect(watcher.isStale('ECONNRESET')).toBe(false);
  });
});
