/**
 * A real HTTP server on 127.0.0.1 standing in for Cerebras (OpenAI-compatible) and Ollama (native
 * `/api/chat`) in tests, the demo and the benchmark. It answers realistically by default and can be
 * scripted per request (status, headers, delays, chunk boundaries, truncation, resets, stalls). It
 * records every request and notices when the client goes away, so tests can prove cancellation.
 * Slightly past 300 lines because the documented public types live here, beside the server.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { defaultFakeResponse } from './fake-upstream-defaults.js';
import { sendFakeResponse } from './fake-upstream-send.js';

/** One item of {@link FakeResponse.chunks}: bytes to write, or a pause before the next item. */
export type FakeChunk = string | Uint8Array | { readonly delayMs: number };

/**
 * A scripted answer to one request. Order of events: `resetBeforeHeaders` / `stallBeforeHeaders`,
 * then `delayMs`, then status and headers, then `body` and/or `chunks`, then `end`.
 */
export interface FakeResponse {
  /** HTTP status; 200 by default. */
  readonly status?: number;
  /** Extra or overriding headers. `content-type: application/json` is added for an object body. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Wait this long before sending the headers (time to first byte). */
  readonly delayMs?: number;
  /**
   * A one-shot body: bytes, a string, or anything else serialized as JSON. Sent with a
   * Content-Length when `end` is `'normal'` and there are no `chunks`; otherwise as the first chunk.
   */
  readonly body?: string | Uint8Array | object;
  /**
   * Written one at a time (chunked encoding), each handed to the kernel before the next, so SSE
   * events or the bytes of one UTF-8 character can be split across TCP writes. Separate writes
   * reach the client as separate reads only if time passes between them: put `{ delayMs }` items
   * between them (or set `chunkDelayMs`) when a test depends on the split.
   */
  readonly chunks?: readonly FakeChunk[];
  /** Pause between two data chunks; defaults to the server's `chunkDelayMs` option (0). */
  readonly chunkDelayMs?: number;
  /**
   * How the response ends: `'normal'` (default), `'close'` (destroy the socket after the last
   * chunk: a truncated response), `'stall'` (send nothing more, keep the socket open until the
   * client leaves or the server closes).
   */
  readonly end?: 'normal' | 'close' | 'stall';
  /** Reset the connection (TCP RST) once the request has arrived; no response at all. */
  readonly resetBeforeHeaders?: boolean;
  /** Never answer; the socket stays open until the client leaves or the server closes. */
  readonly stallBeforeHeaders?: boolean;
}

/** A queued answer: fixed, or computed from the request it answers. */
export type FakeResponder = FakeResponse | ((request: RecordedRequest) => FakeResponse);

/** A request the fake upstream received. */
export interface RecordedRequest {
  readonly method: string;
  /** Path including the query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The full body (partial if the client went away while sending it). */
  readonly body: string;
  /** The parsed body; undefined if it is not JSON. */
  readonly json: unknown;
  /** Live: true once the client closed the connection before our response finished. */
  readonly aborted: boolean;
  /** `performance.now()` when the abort was seen. */
  readonly abortedAt?: number | undefined;
}

/** Handle on a running fake upstream. */
export interface FakeUpstream {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  /** Every request since start (or the last `reset()`), in arrival order of their full bodies. */
  readonly requests: readonly RecordedRequest[];
  /** The next requests (FIFO) get these instead of the default behaviour. */
  enqueue(...responses: FakeResponder[]): void;
  /** Resolves once `count` requests were recorded; rejects after `timeoutMs` (default 5000). */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /**
   * Resolves when request #`index` is seen aborted by the client. Rejects after `timeoutMs`
   * (default 5000) or as soon as that response is over without an abort.
   */
  waitForAbort(index: number, timeoutMs?: number): Promise<RecordedRequest>;
  /** Sockets currently open to the server (keep-alive ones included). */
  openConnections(): number;
  /** Requests whose response is not over yet, whichever way it is to end (idle sockets aside). */
  inFlight(): number;
  /** Clears the queue and the recorded requests. */
  reset(): void;
  /** Closes the server and destroys every socket; never hangs, whatever is in flight. */
  close(): Promise<void>;
}

/** Options of {@link startFakeUpstream}. */
export interface FakeUpstreamOptions {
  /** Pause between streamed chunks, default responses included (default 0). */
  readonly chunkDelayMs?: number;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Idle keep-alive sockets are closed after this (Node's default 5000) — to test stale sockets. */
  readonly keepAliveTimeoutMs?: number;
  /** The text pieces default replies are made of (streams send one chunk per piece). */
  readonly replyPieces?: readonly string[];
  /** false: keep no request records (benchmarks, where they would only grow). Default true. */
  readonly record?: boolean;
}

class Recording implements RecordedRequest {
  abortedAt: number | undefined;
  /** Set once the response is over, whichever way; an abort can no longer happen. */
  settled = false;
  readonly json: unknown;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: Readonly<Record<string, string | string[] | undefined>>,
    readonly body: string,
  ) {
    this.json = parseJson(body);
  }

  get aborted(): boolean {
    return this.abortedAt !== undefined;
  }
}

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

const DEFAULT_WAIT_MS = 5000;

/** Starts a fake upstream on 127.0.0.1 and resolves once it listens. */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  let recordings: Recording[] = [];
  const queue: FakeResponder[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const waiters = new Set<Waiter>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const notify = (): void => {
    for (const waiter of waiters) waiter.check();
  };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const bodyChunks: Buffer[] = [];
    let recording: Recording | undefined;
    let closedByUs = false;
    // Aborted when the response is over in any way, so pending delays and writes stop at once.
    const life = new AbortController();
    inFlight += 1;
    const record = (): Recording => {
      if (recording === undefined) {
        recording = new Recording(
          request.method ?? 'GET',
          request.url ?? '/',
          { ...request.headers },
          Buffer.concat(bodyChunks).toString('utf8'),
        );
        if (options.record !== false) recordings.push(recording);
      }
      return recording;
    };
    // Client resets are expected here; without listeners an 'error' would crash the test run.
    request.on('error', () => {});
    response.on('error', () => {});
    request.on('data', (chunk: Buffer) => bodyChunks.push(chunk));
    const noticeClientGone = (): void => {
      if (closedByUs || closing) return;
      record().abortedAt ??= performance.now();
      notify();
    };
    // The client left while still sending its body.
    request.on('close', () => {
      if (!request.complete) noticeClientGone();
    });
    response.on('close', () => {
      inFlight -= 1;
      life.abort();
      // writableFinished is false when the socket closed before our last byte was flushed.
      if (!response.writableFinished) noticeClientGone();
      record().settled = true;
      notify();
    });
    request.on('end', () => {
      const current = record();
      notify();
      const closeSocket = (reset: boolean): void => {
        closedByUs = true;
        if (reset) request.socket.resetAndDestroy();
        else request.socket.destroy();
      };
      const plan = planFor(queue.shift(), current, options.replyPieces);
      const delay = plan.chunkDelayMs ?? chunkDelayMs;
      sendFakeResponse(plan, response, life.signal, delay, closeSocket).catch(() =>
        closeSocket(false),
      );
    });
  };

  const server = createServer(handle);
  if (options.keepAliveTimeoutMs !== undefined)
    server.keepAliveTimeout = options.keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const waitUntil = <T>(
    probe: () => T | Error | undefined,
    timeoutMs: number,
    what: string,
  ): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check() {
          const result = probe();
          if (result === undefined) return;
          finish();
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
        fail(error) {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new Error(`fake upstream: no ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      waiters.add(waiter);
      waiter.check();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    get requests(): readonly RecordedRequest[] {
      return recordings;
    },
    enqueue(...responses) {
      queue.push(...responses);
    },
    async waitForRequests(count, timeoutMs = DEFAULT_WAIT_MS) {
      await waitUntil(
        () => (recordings.length >= count ? true : undefined),
        timeoutMs,
        `${count} request(s) (got ${recordings.length})`,
      );
    },
    waitForAbort(index, timeoutMs = DEFAULT_WAIT_MS) {
      return waitUntil<RecordedRequest>(
        () => {
          const recording = recordings[index];
          if (recording === undefined) return undefined;
          if (recording.aborted) return recording;
          if (recording.settled) return new Error(`request #${index} finished without an abort`);
          return undefined;
        },
        timeoutMs,
        `abort of request #${index}`,
      );
    },
    openConnections: () => sockets.size,
    inFlight: () => inFlight,
    reset() {
      queue.length = 0;
      recordings = [];
    },
    close() {
      closed ??= (async () => {
        closing = true;
        queue.length = 0;
        for (const waiter of waiters) waiter.fail(new Error('fake upstream closed'));
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        // The server's callback can fire before the sockets emit 'close'; wait for both so
        // openConnections() is 0 once close() resolves. A socket still in the set has not
        // emitted 'close' yet, so each of these resolves after destroy().
        const socketsClosed = [...sockets].map((socket) => once(socket, 'close'));
        for (const socket of sockets) socket.destroy();
        await Promise.all([serverClosed, ...socketsClosed]);
      })();
      return closed;
    },
  };
}

/** The queued answer, else the default; a responder that throws becomes a visible 500. */
function planFor(
  responder: FakeResponder | undefined,
  request: RecordedRequest,
  replyPieces: readonly string[] | undefined,
): FakeResponse {
  try {
    if (typeof responder === 'function') return responder(request);
    return responder ?? defaultFakeResponse(request, replyPieces);
  } catch (error: unknown) {
    const message = `fake upstream responder threw: ${String(error)}`;
    return { status: 500, body: { error: { message, type: 'fake_upstream_error' } } };
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
