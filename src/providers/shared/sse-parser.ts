import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { UpstreamError } from '../../errors/gateway-error.js';

/** Longest single SSE event we buffer before calling the upstream broken. */
const MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * Parses a server-sent-events byte stream into events. Events split across reads, multi-byte
 * characters split across reads, `\r\n`, comments and `event:` lines are all handled by
 * eventsource-parser; we add streaming UTF-8 decoding and a buffer cap.
 */
export async function* parseSse(
  source: AsyncIterable<Uint8Array | string>,
): AsyncGenerator<EventSourceMessage> {
  const decoder = new TextDecoder();
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
  for await (const part of source) {
    parser.feed(typeof part === 'string' ? part : decoder.decode(part, { stream: true }));
    if (failure !== undefined) throw failure;
    if (pending.length > 0) {
      const events = pending;
      pending = [];
      yield* events;
    }
  }
  parser.feed(decoder.decode());
  // A final event without its blank line terminator is incomplete: the stream was cut.
  if (pending.length > 0) yield* pending;
}
