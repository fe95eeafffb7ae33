import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UpstreamTimeoutError } from '../errors/gateway-error.js';
import type { ChatCompletionChunk } from '../openai/chat-types.js';
import type { StreamChunk } from '../providers/provider.js';
import { openAiSseFrames } from './openai-sse-frames.js';
import { awaitUnderHeartbeat, primeStream, type SseFrameEncoder, sendSse } from './sse.js';

function chunk(content: string): ChatCompletionChunk {
  return {
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  };
}

/** A batch of chunks made here (no upstream text). */
function batch(...contents: string[]): StreamChunk[] {
  return contents.map((content) => ({ chunk: chunk(content), json: undefined }));
}

/**
 * A response as node:http keeps it on a keep-alive connection: once ended it is not destroyed
 * until its last bytes are written (later still for a slow client), so anything written after
 * `end` would be a write after end.
 */
function fakeResponse() {
  const calls: Array<['write' | 'end', string]> = [];
  const raw = {
    destroyed: false,
    writableEnded: false,
    writableNeedDrain: false,
    headersSent: false,
    writeHead() {
      raw.headersSent = true;
    },
    write(text: string) {
      calls.push(['write', text]);
      return true;
    },
    end(text: string) {
      calls.push(['end', text]);
      raw.writableEnded = true;
    },
    once() {},
  };
  const reply = {
    raw,
    getHeaders: () => ({}),
    hijack() {},
  } as unknown as FastifyReply;
  const log = { warn() {}, error() {} };
  const request = { gateway: {}, log } as unknown as FastifyRequest;
  return { calls, raw, reply, request };
}

describe('sendSse', () => {
  it('sends events that arrive together with [DONE] in the end call, and nothing after it', async () => {
    async function* upstream() {
      yield batch('a');
      yield batch('b');
    }
    const { calls, reply, request } = fakeResponse();
    const stream = await primeStream(upstream());
    await sendSse(request, reply, stream, {
      frames: openAiSseFrames(false),
      writeTimeoutMs: 1_000,
    });
    await nextTurn();
    await nextTurn();
    expect(calls).toEqual([
      [
        'end',
        `data: ${JSON.stringify(chunk('a'))}\n\ndata: ${JSON.stringify(chunk('b'))}\n\ndata: [DONE]\n\n`,
      ],
    ]);
  });

  it('writes what arrived before a pause as soon as the turn ends, then the rest with the end', async () => {
    let release: () => void = () => undefined;
    const paused = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* upstream() {
      yield batch('a');
      await paused;
      yield batch('b');
    }
    const { calls, reply, request } = fakeResponse();
    const stream = await primeStream(upstream());
    const sending = sendSse(request, reply, stream, {
      frames: openAiSseFrames(false),
      writeTimeoutMs: 1_000,
    });
    await nextTurn();
    expect(calls).toEqual([['write', `data: ${JSON.stringify(chunk('a'))}\n\n`]]);
    release();
    await sending;
    await nextTurn();
    expect(calls).toEqual([
      ['write', `data: ${JSON.stringify(chunk('a'))}\n\n`],
      ['end', `data: ${JSON.stringify(chunk('b'))}\n\ndata: [DONE]\n\n`],
    ]);
  });

  it("sends a chunk's upstream text as it came, and the usage chunk only when asked", async () => {
    const json = '{"choices":[{"delta":{"content":"a"},"index":0}],"id":"c","x_vendor":1}';
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    const usageChunk = { ...chunk(''), choices: [], usage };
    for (const includeUsage of [false, true]) {
      async function* upstream() {
        yield [
          { chunk: JSON.parse(json) as ChatCompletionChunk, json },
          ...batch('b'),
          { chunk: usageChunk, json: undefined },
        ];
      }
      const { calls, reply, request } = fakeResponse();
      await sendSse(request, reply, await primeStream(upstream()), {
        frames: openAiSseFrames(includeUsage),
        writeTimeoutMs: 1_000,
      });
      const usageEvent = includeUsage ? `data: ${JSON.stringify(usageChunk)}\n\n` : '';
      expect(calls).toEqual([
        [
          'end',
          `data: ${json}\n\ndata: ${JSON.stringify(chunk('b'))}\n\n${usageEvent}data: [DONE]\n\n`,
        ],
      ]);
      expect(request.gateway.usage).toEqual(usage);
    }
  });

  it("writes another API's frames: its chunk frames, then its end or, after a failure, its error frame", async () => {
    const frames: SseFrameEncoder = {
      chunk: ({ chunk }) => `event: delta\ndata: ${chunk.choices[0]?.delta.content}\n\n`,
      end: () => 'event: stop\ndata: {}\n\n',
      error: (error) => `event: error\ndata: ${error.code}\n\n`,
    };
    for (const fails of [false, true]) {
      async function* upstream() {
        yield batch('a', 'b');
        if (fails) throw new UpstreamTimeoutError('p', 'idle');
      }
      const { calls, reply, request } = fakeResponse();
      await sendSse(request, reply, await primeStream(upstream()), {
        frames,
        writeTimeoutMs: 1_000,
      });
      await nextTurn();
      const last = fails ? 'event: error\ndata: upstream_timeout\n\n' : 'event: stop\ndata: {}\n\n';
      expect(calls).toEqual([['end', `event: delta\ndata: a\n\nevent: delta\ndata: b\n\n${last}`]]);
    }
  });
});

const PING = 'event: ping\ndata: {}\n\n';
const heartbeat = { intervalMs: 1_000, frame: PING };
const frames: SseFrameEncoder = {
  chunk: ({ chunk }) => `event: delta\ndata: ${chunk.choices[0]?.delta.content}\n\n`,
  end: () => 'event: stop\n\n',
  error: (error) => `event: error\ndata: ${error.code}\n\n`,
  start: () => 'event: start\n\n',
};

/** A promise and the functions that settle it. */
function deferred<Value>() {
  let resolve: (value: Value) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<Value>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  return { promise, resolve, reject };
}

describe('the heartbeat', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes its frame after each silence of one interval, never right after a write, nor after the end', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    const next = deferred<void>();
    const last = deferred<void>();
    async function* upstream() {
      yield batch('a');
      await next.promise;
      yield batch('b');
      await last.promise;
    }
    const { calls, reply, request } = fakeResponse();
    const sending = sendSse(request, reply, await primeStream(upstream()), {
      frames: openAiSseFrames(false),
      writeTimeoutMs: 5_000,
      heartbeat,
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(calls.map(([, text]) => text)).toEqual([`data: ${JSON.stringify(chunk('a'))}\n\n`]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.at(-1)).toEqual(['write', PING]);
    await vi.advanceTimersByTimeAsync(500);
    next.resolve();
    await vi.advanceTimersByTimeAsync(999);
    // The write of 'b' put the next ping off by a whole interval.
    expect(calls.at(-1)).toEqual(['write', `data: ${JSON.stringify(chunk('b'))}\n\n`]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.at(-1)).toEqual(['write', PING]);
    last.resolve();
    await sending;
    const count = calls.length;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(count);
    expect(calls.at(-1)).toEqual(['end', 'data: [DONE]\n\n']);
  });

  it('waits for a first chunk that comes within the interval without writing anything', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { calls, raw, reply, request } = fakeResponse();
    const ready = deferred<string>();
    const waiting = awaitUnderHeartbeat(request, reply, ready.promise, {
      frames,
      heartbeat,
      release: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(999);
    ready.resolve('served');
    await expect(waiting).resolves.toBe('served');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toEqual([]);
    expect(raw.headersSent).toBe(false);
  });

  it('lets a failure within the interval through, for a status and an error body', async () => {
    const { calls, reply, request } = fakeResponse();
    const failure = new UpstreamTimeoutError('p', 'first_byte');
    const waiting = awaitUnderHeartbeat(request, reply, Promise.reject(failure), {
      frames,
      heartbeat,
      release: () => undefined,
    });
    await expect(waiting).rejects.toBe(failure);
    expect(calls).toEqual([]);
  });

  it('opens a stream whose first chunk is slow, and pings until it comes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { calls, raw, reply, request } = fakeResponse();
    const ready = deferred<string>();
    const waiting = awaitUnderHeartbeat(request, reply, ready.promise, {
      frames,
      heartbeat,
      release: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(raw.headersSent).toBe(true);
    expect(calls).toEqual([['write', `event: start\n\n${PING}`]]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls).toHaveLength(3);
    expect(calls.at(-1)).toEqual(['write', PING]);
    ready.resolve('served');
    await expect(waiting).resolves.toBe('served');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls).toHaveLength(3);
  });

  it('ends an early-opened stream whose upstream then fails with the error frame', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { calls, reply, request } = fakeResponse();
    const ready = deferred<string>();
    const waiting = awaitUnderHeartbeat(request, reply, ready.promise, {
      frames,
      heartbeat,
      release: () => undefined,
    });
    await vi.advanceTimersByTimeAsync(1_500);
    ready.reject(new UpstreamTimeoutError('p', 'first_byte'));
    await expect(waiting).resolves.toBeUndefined();
    expect(calls.at(-1)).toEqual(['end', 'event: error\ndata: upstream_timeout\n\n']);
    expect(request.gateway.errorCode).toBe('upstream_timeout');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(calls.at(-1)?.[0]).toBe('end');
  });
});
