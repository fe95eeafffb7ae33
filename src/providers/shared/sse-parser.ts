import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { UpstreamError } from '../../errors/gateway-error.js';
import { createUtf8Decoder } from './utf8-decoder.js';

/** Longest single SSE event we buffer before calling the upstream broken. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * Parses a server-sent-events byte stream into events, yielded as the batch each upstream read
 * completed (one step per read rather than per event: the relay's per-event cost). Events split
 * across reads, multi-byte characters split across reads, `\r\n`, comments and `event:` lines are
 * all handled by eventsource-parser; we add streaming UTF-8 decoding and a buffer cap.
 */
export async function* parseSse(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<readonly EventSourceMessage[]> {
  const decoder = createUtf8Decoder();
  let pending: EventSourceMessage[] = [];
  let failure: UpstreamError | undefined;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_BYTES,
    onEvent: (event) => {
      pending.push(event);
    },
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') {
        failure = new UpstreamError('The upstream sent an oversized stream event.');
      }
    },
  });
  let endsWithCr = false;
  for await (const part of source) {
    const text = typeof part === 'string' ? part : decoder.write(part);
    if (text.length > 0) endsWithCr = text.endsWith('\r');
    parser.feed(text);
    if (failure !== undefined) throw failure;
    if (pending.length > 0) {
      const events = pending;
      pending = [];
      yield events;
    }
  }
  const rest = decoder.end();
  if (rest.length > 0) endsWithCr = rest.endsWith('\r');
  // A lone CR is a complete line ending, but the parser waits to see whether LF follows; at the
  // end of the stream nothing will, so say so (an event cut before its blank line stays unsent).
  parser.feed(endsWithCr ? `${rest}\n` : rest);
  // A final event without its blank line terminator is incomplete: the stream was cut.
  if (pending.length > 0) yield pending;
}
