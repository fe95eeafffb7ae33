import { describe, expect, it } from 'vitest';
import { parseSse } from './sse-parser.js';

/** Every event, whatever batches they came in. */
async function collect<T>(batches: AsyncIterable<readonly T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const batch of batches) items.push(...batch);
  return items;
}

/** The batches themselves: one per read that completed an event. */
async function batchesOf<T>(batches: AsyncIterable<readonly T[]>): Promise<(readonly T[])[]> {
  const all: (readonly T[])[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

async function* bytes(...parts: (string | Uint8Array)[]) {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

describe('parseSse', () => {
  const body = 'data: {"a":"héllo 👋"}\n\n: keep-alive\n\nevent: ping\ndata: x\n\ndata: [DONE]\n\n';

  it('parses data events, skips comments, keeps event names', async () => {
    const events = await collect(parseSse(bytes(body)));
    expect(events.map((event) => [event.event, event.data])).toEqual([
      [undefined, '{"a":"héllo 👋"}'],
      ['ping', 'x'],
      [undefined, '[DONE]'],
    ]);
  });

  it('gives the same events for every split point, mid-line and mid-UTF-8', async () => {
    const encoded = new TextEncoder().encode(body);
    const expected = await collect(parseSse(bytes(encoded)));
    for (let split = 1; split < encoded.length; split++) {
      const events = await collect(parseSse(bytes(encoded.slice(0, split), encoded.slice(split))));
      expect(events, `split at ${split}`).toEqual(expected);
    }
  });

  it('drops a byte-order mark that starts the stream, as the SSE spec asks', async () => {
    const withBom = Uint8Array.of(0xef, 0xbb, 0xbf, ...new TextEncoder().encode('data: x\n\n'));
    const events = await collect(parseSse(bytes(withBom.subarray(0, 2), withBom.subarray(2))));
    expect(events.map((event) => event.data)).toEqual(['x']);
  });

  it('handles CRLF line endings and byte-by-byte delivery', async () => {
    const crlf = new TextEncoder().encode('data: {"x":1}\r\n\r\ndata: [DONE]\r\n\r\n');
    const single = [...crlf].map((byte) => new Uint8Array([byte]));
    const events = await collect(parseSse(bytes(...single)));
    expect(events.map((event) => event.data)).toEqual(['{"x":1}', '[DONE]']);
  });

  it('joins multi-line data and accepts string chunks', async () => {
    const events = await collect(
      parseSse(
        (async function* () {
          yield 'data: a\ndata: b\n\n';
        })(),
      ),
    );
    expect(events.map((event) => event.data)).toEqual(['a\nb']);
  });

  it('yields the events of one read together, and nothing for a read that completes none', async () => {
    const batches = await batchesOf(
      parseSse(bytes('data: 1\n\ndata: 2\n\ndata: ', '3', '\n\n: comment\n\n', 'data: 4\n\n')),
    );
    expect(batches.map((batch) => batch.map((event) => event.data))).toEqual([
      ['1', '2'],
      ['3'],
      ['4'],
    ]);
  });

  it('drops a final event that was cut before its blank line', async () => {
    const events = await collect(parseSse(bytes('data: {"x":1}\n\ndata: {"y":')));
    expect(events.map((event) => event.data)).toEqual(['{"x":1}']);
  });
});
