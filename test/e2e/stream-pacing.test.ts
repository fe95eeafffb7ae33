import { Agent, request as httpRequest, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ollamaNdjsonLines, openAiSseEvents, sseEvent } from '../helpers/fake-upstream-wire.js';
import { CLIENT_KEY, useGateway } from '../helpers/gateway-harness.js';
import { chatBody, postChat, readSseEvents } from '../helpers/sse-client.js';

const gateway = useGateway();

const GAP_MS = 80;

function chunk(content: string) {
  return sseEvent({
    id: 'c',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
}

/** What the next request's response emits as 'error' (a write after its end, for one). */
function responseErrorsOfNextRequest(): Error[] {
  const errors: Error[] = [];
  gateway.app.server.once('request', (_request, response: ServerResponse) => {
    response.on('error', (error) => errors.push(error));
  });
  return errors;
}

/**
 * Posts a streamed chat request on a fresh keep-alive connection (the response ends, the socket
 * stays, as with every SDK client), reading nothing for `pauseMs` first. Resolves with the body
 * once anything the gateway still had scheduled for the response has run.
 */
async function postStream(path: string, pauseMs = 0): Promise<string> {
  const agent = new Agent({ keepAlive: true });
  const body = await new Promise<string>((resolve, reject) => {
    const outgoing = httpRequest(`${gateway.url}${path}`, {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json' },
    });
    outgoing.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      if (pauseMs > 0) {
        response.pause();
        setTimeout(() => response.resume(), pauseMs);
      }
      response.on('data', (part: string) => {
        text += part;
      });
      response.on('end', () => resolve(text));
    });
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(chatBody(true)));
  });
  await new Promise((resolve) => setTimeout(resolve, 20));
  agent.destroy();
  return body;
}

/** {@link postStream}, counting the writes (syscalls) the gateway's socket makes for the response. */
async function countResponseWrites(path: string): Promise<{ writes: number; body: string }> {
  let writes = 0;
  gateway.app.server.once('connection', (socket: Socket) => {
    // Every write that reaches the kernel passes through one of these (corked writes: _writev).
    const internals = socket as unknown as Record<'_write' | '_writev', (...args: never[]) => void>;
    for (const name of ['_write', '_writev'] as const) {
      const original = internals[name].bind(socket);
      internals[name] = (...args) => {
        writes += 1;
        original(...args);
      };
    }
  });
  const body = await postStream(path);
  return { writes, body };
}

describe('stream pacing', () => {
  // A whole stream arriving in one upstream read (a fast model, a cache) costs one syscall, not
  // one for the events and another for [DONE] and the end.
  it.each([
    ['cerebras', '/cerebras/v1/chat/completions'],
    ['ollama', '/ollama/v1/chat/completions'],
  ])('sends a stream that arrives at once in one write (%s)', async (provider, path) => {
    const cerebras = provider === 'cerebras';
    gateway.upstream.enqueue({
      headers: { 'content-type': cerebras ? 'text/event-stream' : 'application/x-ndjson' },
      body: (cerebras ? openAiSseEvents() : ollamaNdjsonLines()).join(''),
    });
    const responseErrors = responseErrorsOfNextRequest();
    const { writes, body } = await countResponseWrites(path);
    expect(responseErrors).toEqual([]);
    expect(body).toContain('"content":"Hello');
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(writes).toBe(1);
  });

  // A burst far larger than the socket buffers to a client that does not read at first: the
  // writes wait for the client (backpressure), the end can overtake a scheduled flush, and still
  // every event arrives once, then [DONE], with no error on the response (sse.test.ts pins the
  // ordering itself).
  it('delivers a large burst to a slow reader whole, once, with no error', async () => {
    const events = Array.from({ length: 1_500 }, (_, index) =>
      chunk(`${index} ${'x'.repeat(2_000)}`),
    );
    gateway.upstream.enqueue({
      headers: { 'content-type': 'text/event-stream' },
      body: [...events, 'data: [DONE]\n\n'].join(''),
    });
    const responseErrors = responseErrorsOfNextRequest();
    const body = await postStream('/cerebras/v1/chat/completions', 200);
    expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(body.split('data: ').length - 1).toBe(1_501);
    expect(responseErrors).toEqual([]);
  });

  // Writes are coalesced per loop turn: this proves they are never held back across upstream reads.
  it.each([
    ['cerebras', '/cerebras/v1/chat/completions'],
    ['ollama', '/ollama/v1/chat/completions'],
  ])('forwards each upstream chunk as it arrives (%s)', async (provider, path) => {
    const line = (content: string, done: boolean) =>
      `${JSON.stringify({
        model: 'm',
        created_at: '2025-01-01T00:00:00Z',
        message: { role: 'assistant', content },
        done,
        ...(done ? { done_reason: 'stop', prompt_eval_count: 1, eval_count: 4 } : {}),
      })}\n`;
    const pieces = ['a', 'b', 'c', 'd'];
    const chunks =
      provider === 'cerebras'
        ? [...pieces.flatMap((piece) => [chunk(piece), { delayMs: GAP_MS }]), 'data: [DONE]\n\n']
        : [...pieces.flatMap((piece) => [line(piece, false), { delayMs: GAP_MS }]), line('', true)];
    gateway.upstream.enqueue({
      headers: {
        'content-type': provider === 'cerebras' ? 'text/event-stream' : 'application/x-ndjson',
      },
      chunks,
    });
    const response = await postChat(gateway.url, path, chatBody(true));
    const events = await readSseEvents(response);
    const contentEvents = events.filter((event) => /"content":"[abcd]"/.test(event.data));
    expect(contentEvents).toHaveLength(4);
    const gaps = contentEvents.slice(1).map((event, index) => {
      const previous = contentEvents[index];
      return previous === undefined ? 0 : event.at - previous.at;
    });
    for (const gap of gaps) expect(gap).toBeGreaterThan(GAP_MS / 2);
  });
});
