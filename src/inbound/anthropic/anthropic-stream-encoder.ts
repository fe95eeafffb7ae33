import type { GatewayError } from '../../errors/gateway-error.js';
import { isUsageChunk, type SseFrameEncoder } from '../../http/sse.js';
import type { FinishReason, ToolCallDelta, Usage } from '../../openai/chat-types.js';
import type { StreamChunk } from '../../providers/provider.js';
import { anthropicErrorBody } from './anthropic-error-body.js';
import { newAnthropicId } from './anthropic-ids.js';
import { tokensOfCharacters } from './estimate-input-tokens.js';
import {
  matchedStopSequence,
  reasoningOf,
  toAnthropicUsage,
  toStopReason,
  vendorStopReason,
} from './to-anthropic-message.js';

/** What the frames of one stream say besides its chunks. */
export interface AnthropicStreamOptions {
  /** `msg_…`. */
  readonly id: string;
  /** The model as the client named it. */
  readonly model: string;
  /** The prompt's estimated tokens, for `message_start` (see `estimateInputTokens`). */
  readonly inputTokens: number;
  readonly stopSequences: readonly string[];
}

/** Anthropic's keep-alive, written while the upstream is silent. */
export const PING_FRAME = 'event: ping\ndata: {"type":"ping"}\n\n';

type BlockKind = 'text' | 'thinking' | 'tool_use';

const frame = (type: string, data: string): string => `event: ${type}\ndata: ${data}\n\n`;

/**
 * The per-request state machine that turns a chat chunk stream into Messages events:
 * `message_start` with the estimated input tokens, then per block `content_block_start`,
 * its deltas (`thinking_delta`, `text_delta`, `input_json_delta`) and `content_block_stop`, with
 * indices contiguous from 0 and one block open at a time; a block opens only for non-empty
 * content, so no text block is ever empty. Each tool call is a block: OpenAI's argument pieces
 * are relayed as they come, Ollama's whole arguments as one piece; either way they concatenate to
 * the input's JSON. Upstreams stream one call's pieces together (OpenAI does), so a piece for an
 * earlier call after a later one began would land in the later one's block.
 *
 * `message_delta` (stop reason, stop sequence, usage with the upstream's input and output
 * counts) and `message_stop` come at the end, after the final usage chunk, which providers yield
 * after the finish chunk: sent any earlier, the output count would be missing. A failure is one
 * `event: error` frame, with no `message_stop`.
 *
 * Frames are built by concatenation around `JSON.stringify` of the text alone: nothing is parsed
 * and no object is built per text delta.
 */
export function createAnthropicStreamEncoder(options: AnthropicStreamOptions): SseFrameEncoder {
  const { stopSequences } = options;
  const longestStop = stopSequences.reduce((longest, stop) => Math.max(longest, stop.length), 0);
  let started = false;
  /** The open block's index, or the next block's when none is open. */
  let blockIndex = 0;
  let open: BlockKind | undefined;
  let toolIndex: number | undefined;
  let toolId: string | undefined;
  let toolUsed = false;
  let finishReason: FinishReason | null = null;
  let reportedStop: unknown;
  let usage: Usage | undefined;
  let outputCharacters = 0;
  /** The end of the text, as long as the longest stop sequence (see `matchedStopSequence`). */
  let tail = '';

  const start = (): string => {
    if (started) return '';
    started = true;
    const message = {
      id: options.id,
      type: 'message',
      role: 'assistant',
      model: options.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: toAnthropicUsage(undefined, options.inputTokens, 0),
    };
    return frame('message_start', JSON.stringify({ type: 'message_start', message }));
  };

  const close = (): string => {
    if (open === undefined) return '';
    open = undefined;
    const index = blockIndex;
    blockIndex += 1;
    return frame('content_block_stop', `{"type":"content_block_stop","index":${index}}`);
  };

  const openBlock = (kind: BlockKind, contentBlock: string): string => {
    const closed = close();
    open = kind;
    return `${closed}${frame(
      'content_block_start',
      `{"type":"content_block_start","index":${blockIndex},"content_block":${contentBlock}}`,
    )}`;
  };

  const delta = (body: string): string =>
    frame(
      'content_block_delta',
      `{"type":"content_block_delta","index":${blockIndex},"delta":${body}}`,
    );

  const thinking = (text: string): string => {
    outputCharacters += text.length;
    const opening =
      open === 'thinking'
        ? ''
        : openBlock('thinking', '{"type":"thinking","thinking":"","signature":""}');
    return `${opening}${delta(`{"type":"thinking_delta","thinking":${JSON.stringify(text)}}`)}`;
  };

  const text = (piece: string): string => {
    outputCharacters += piece.length;
    if (longestStop > 0) tail = (tail + piece).slice(-longestStop);
    const opening = open === 'text' ? '' : openBlock('text', '{"type":"text","text":""}');
    return `${opening}${delta(`{"type":"text_delta","text":${JSON.stringify(piece)}}`)}`;
  };

  const toolCall = (call: ToolCallDelta): string => {
    // Some vendors leave the index out of a call's later pieces.
    const index = call.index ?? toolIndex;
    const id = call.id;
    let out = '';
    const continues =
      open === 'tool_use' &&
      index === toolIndex &&
      (id === undefined || id === '' || id === toolId);
    if (!continues) {
      toolIndex = index;
      toolId = id === undefined || id === '' ? newAnthropicId('toolu') : id;
      toolUsed = true;
      const name = JSON.stringify(call.function?.name ?? '');
      out = openBlock(
        'tool_use',
        `{"type":"tool_use","id":${JSON.stringify(toolId)},"name":${name},"input":{}}`,
      );
    }
    const piece = call.function?.arguments;
    if (piece === undefined || piece === '') return out;
    outputCharacters += piece.length;
    return `${out}${delta(`{"type":"input_json_delta","partial_json":${JSON.stringify(piece)}}`)}`;
  };

  return {
    start,

    chunk({ chunk }: StreamChunk): string {
      let out = started ? '' : start();
      if (chunk.usage != null) usage = chunk.usage;
      if (isUsageChunk(chunk)) return out;
      const choice = chunk.choices[0];
      if (choice === undefined) return out;
      const { delta: chunkDelta } = choice;
      const reasoning = reasoningOf(chunkDelta);
      if (reasoning !== undefined) out += thinking(reasoning);
      const { content } = chunkDelta;
      if (typeof content === 'string' && content !== '') out += text(content);
      const calls = chunkDelta.tool_calls;
      if (calls !== undefined) {
        for (const call of calls) out += toolCall(call);
      }
      if (choice.finish_reason != null) {
        finishReason = choice.finish_reason;
        reportedStop = vendorStopReason(choice);
        out += close();
      }
      return out;
    },

    end(): string {
      const opening = `${start()}${close()}`;
      const stopSequence =
        finishReason === 'stop' ? matchedStopSequence(reportedStop, tail, stopSequences) : null;
      const messageDelta = {
        type: 'message_delta',
        delta: {
          stop_reason: toStopReason(finishReason, toolUsed, stopSequence),
          stop_sequence: stopSequence,
        },
        usage: toAnthropicUsage(usage, options.inputTokens, tokensOfCharacters(outputCharacters)),
      };
      return `${opening}${frame('message_delta', JSON.stringify(messageDelta))}${frame(
        'message_stop',
        '{"type":"message_stop"}',
      )}`;
    },

    error(error: GatewayError): string {
      return frame('error', JSON.stringify(anthropicErrorBody(error)));
    },
  };
}
