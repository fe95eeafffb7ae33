import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { UpstreamTimeoutError } from '../errors/gateway-error.js';
import type { ChatCompletionChunk } from '../openai/chat-types.js';
import type { StreamChunk } from '../providers/provider.js';
import { openAiSseFrames } from './openai-sse-frames.js';
import { primeStream, type SseFrameEncoder, sendSse } from './sse.js';

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
    writeHead() {},
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
  return { calls, reply, request };
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
