import { describe, expect, it } from 'vitest';
import { sseEvent } from '../helpers/fake-upstream-wire.js';
import { useGateway } from '../helpers/gateway-harness.js';
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

describe('stream pacing', () => {
  // Writes are coalesced per tick: this proves they are never held back across upstream reads.
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
