/**
 * Reading Anthropic Messages SSE in tests: the frames of a body, and a strict accumulator that
 * builds the final message as Anthropic's SDK does while checking the framing rules the SDK and
 * Claude Code rely on (PITFALLS.md, "Block framing"): `event:` equal to `data.type`, one
 * `message_start` first, block indices contiguous from 0, one block open at a time, deltas only
 * into the open block and of its kind, no empty text block, `message_delta` then `message_stop`
 * last. A violation throws, naming it.
 */

/** One frame: its `event:` name and its parsed `data`. */
export interface AnthropicFrame {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** The frames of an SSE body (`ping` included), each checked to have `event` = `data.type`. */
export function parseAnthropicSse(body: string): AnthropicFrame[] {
  const frames: AnthropicFrame[] = [];
  for (const block of body.split('\n\n')) {
    if (block.trim() === '') continue;
    const lines = block.split('\n');
    const event = lines.find((line) => line.startsWith('event: '))?.slice(7);
    const dataLine = lines.find((line) => line.startsWith('data: '));
    if (event === undefined || dataLine === undefined) throw new Error(`bad frame: ${block}`);
    const data = JSON.parse(dataLine.slice(6)) as Record<string, unknown>;
    if (data.type !== event) throw new Error(`event ${event} carries data.type ${data.type}`);
    frames.push({ event, data });
  }
  return frames;
}

/** A content block of the accumulated message. */
export type AccumulatedBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown };

/** The message the frames add up to, and how the stream ended. */
export interface AccumulatedMessage {
  id: string;
  model: string;
  content: AccumulatedBlock[];
  stopReason: unknown;
  stopSequence: unknown;
  startUsage: Record<string, unknown>;
  usage: Record<string, unknown>;
  /** `message_stop` came (a complete stream), or the error frame's `error` (a failed one). */
  end: { readonly stop: true } | { readonly error: Record<string, unknown> };
}

/** Builds the final message from the frames, enforcing the framing rules (see the file's doc). */
export function accumulateMessage(frames: readonly AnthropicFrame[]): AccumulatedMessage {
  const events = frames.filter((frame) => frame.event !== 'ping');
  const first = events[0];
  if (first?.event !== 'message_start')
    throw new Error('the stream does not open with message_start');
  const start = first.data.message as Record<string, unknown>;
  const message: AccumulatedMessage = {
    id: start.id as string,
    model: start.model as string,
    content: [],
    stopReason: null,
    stopSequence: null,
    startUsage: start.usage as Record<string, unknown>,
    usage: start.usage as Record<string, unknown>,
    end: { stop: true },
  };
  let open: number | undefined;
  const json: string[] = [];
  let delta = false;
  for (const [position, { event, data }] of events.slice(1).entries()) {
    const last = position === events.length - 2;
    switch (event) {
      case 'content_block_start': {
        if (open !== undefined) throw new Error(`block ${data.index} starts while ${open} is open`);
        if (data.index !== message.content.length)
          throw new Error(`index ${data.index} leaves a gap`);
        const block = { ...(data.content_block as Record<string, unknown>) };
        if (block.type === 'tool_use') json[data.index as number] = '';
        message.content.push(block as AccumulatedBlock);
        open = data.index as number;
        break;
      }
      case 'content_block_delta': {
        if (open === undefined || data.index !== open) {
          throw new Error(`a delta for block ${data.index}, ${open} is open`);
        }
        const block = message.content[open] as Record<string, unknown>;
        const change = data.delta as Record<string, string>;
        const kinds: Record<string, [string, string]> = {
          text_delta: ['text', 'text'],
          thinking_delta: ['thinking', 'thinking'],
          input_json_delta: ['tool_use', 'partial_json'],
        };
        const [kind, field] = kinds[change.type as string] ?? ['?', '?'];
        if (block.type !== kind) throw new Error(`${change.type} into a ${block.type} block`);
        if (kind === 'tool_use') json[open] = `${json[open] ?? ''}${change[field]}`;
        else block[kind] = (block[kind] as string) + change[field];
        break;
      }
      case 'content_block_stop': {
        if (data.index !== open || open === undefined) throw new Error(`stop of ${data.index}`);
        const block = message.content[open] as Record<string, unknown>;
        if (block.type === 'text' && block.text === '') throw new Error('an empty text block');
        if (block.type === 'tool_use') {
          const text = json[open] ?? '';
          block.input = text === '' ? {} : JSON.parse(text);
        }
        open = undefined;
        break;
      }
      case 'message_delta': {
        if (open !== undefined) throw new Error(`message_delta while block ${open} is open`);
        const change = data.delta as Record<string, unknown>;
        message.stopReason = change.stop_reason;
        message.stopSequence = change.stop_sequence;
        message.usage = data.usage as Record<string, unknown>;
        delta = true;
        break;
      }
      case 'message_stop':
        if (!delta || !last) throw new Error('message_stop out of place');
        return message;
      case 'error':
        if (!last) throw new Error('frames after the error frame');
        message.end = { error: data.error as Record<string, unknown> };
        return message;
      default:
        throw new Error(`unexpected event ${event}`);
    }
  }
  throw new Error('the stream ends without message_stop or an error frame');
}
