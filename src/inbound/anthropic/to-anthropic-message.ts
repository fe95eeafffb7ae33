import { UpstreamError } from '../../errors/gateway-error.js';
import type { ChatCompletion, FinishReason, Usage } from '../../openai/chat-types.js';
import { newAnthropicId } from './anthropic-ids.js';
import type {
  AnthropicMessage,
  AnthropicUsage,
  ContentBlock,
  StopReason,
} from './anthropic-wire.js';

/** What a response says besides the completion: its id and model, the request's stop sequences. */
export interface MessageOptions {
  /** `msg_…`. */
  readonly id: string;
  /** The model as the client named it (an alias stays an alias). */
  readonly model: string;
  readonly stopSequences: readonly string[];
}

/**
 * A completion as a Messages response: thinking (from `reasoning_content`, or `reasoning` as some
 * OpenAI-compatible servers name it), text, then tool calls as `tool_use` blocks with their
 * arguments parsed (a `toolu_…` id when the upstream gave none). Never an empty text block; the
 * stop reason and usage as {@link toStopReason} and {@link toAnthropicUsage} make them.
 */
export function toAnthropicMessage(
  completion: ChatCompletion,
  options: MessageOptions,
): AnthropicMessage {
  const choice = completion.choices[0];
  const message = choice?.message;
  const content: ContentBlock[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning !== undefined)
    content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  // A refusal is the upstream's text too; Anthropic has no block of its own for it.
  const text = message?.content || message?.refusal || '';
  if (text !== '') content.push({ type: 'text', text });
  const toolCalls = message?.tool_calls ?? [];
  for (const call of toolCalls) {
    content.push({
      type: 'tool_use',
      id: call.id || newAnthropicId('toolu'),
      name: call.function.name,
      input: parseToolInput(call.function.arguments),
    });
  }
  const finishReason = message?.refusal ? 'content_filter' : (choice?.finish_reason ?? null);
  const stopSequence =
    finishReason === 'stop'
      ? matchedStopSequence(vendorStopReason(choice), text, options.stopSequences)
      : null;
  return {
    id: options.id,
    type: 'message',
    role: 'assistant',
    model: options.model,
    content,
    stop_reason: toStopReason(finishReason, toolCalls.length > 0, stopSequence),
    stop_sequence: stopSequence,
    usage: toAnthropicUsage(completion.usage, 0, 0),
  };
}

/** The reasoning text of a message or delta: `reasoning_content`, or `reasoning`; else undefined. */
export function reasoningOf(
  message: { readonly reasoning_content?: string | null | undefined } | undefined,
): string | undefined {
  if (message === undefined) return undefined;
  const reasoning =
    message.reasoning_content ?? (message as { readonly reasoning?: unknown }).reasoning;
  return typeof reasoning === 'string' && reasoning !== '' ? reasoning : undefined;
}

/** The matched stop string some servers (vLLM) put on a finished choice; OpenAI does not. */
export function vendorStopReason(choice: object | undefined): unknown {
  return (choice as { readonly stop_reason?: unknown } | undefined)?.stop_reason;
}

/**
 * Anthropic's stop reason. A tool call makes it `tool_use` whatever the upstream said (Ollama
 * says `stop`), so an agent runs the tool; `length` is `max_tokens`; `content_filter` is
 * `refusal`; a plain stop is `stop_sequence` when a stop sequence is known to have matched
 * ({@link matchedStopSequence}), else `end_turn`.
 */
export function toStopReason(
  finishReason: FinishReason | null,
  toolUsed: boolean,
  stopSequence: string | null,
): StopReason {
  if (toolUsed) return 'tool_use';
  if (finishReason === 'length') return 'max_tokens';
  if (finishReason === 'content_filter') return 'refusal';
  return stopSequence === null ? 'end_turn' : 'stop_sequence';
}

/**
 * Which of the request's stop sequences ended the text. OpenAI's API does not say: the sequence
 * the upstream reported (vLLM's `stop_reason`) when it is one of them; else one the text ends
 * with (servers that keep the sequence in the text); else none. Servers that cut the sequence
 * and say nothing (Ollama, OpenAI itself) are reported as `end_turn`: a natural end and a stop
 * sequence look the same there.
 */
export function matchedStopSequence(
  reported: unknown,
  text: string,
  stopSequences: readonly string[],
): string | null {
  if (stopSequences.length === 0) return null;
  if (typeof reported === 'string' && stopSequences.includes(reported)) return reported;
  for (const sequence of stopSequences) {
    if (sequence !== '' && text.endsWith(sequence)) return sequence;
  }
  return null;
}

/**
 * Usage with all four of Anthropic's keys. Anthropic counts cached prompt tokens apart from
 * `input_tokens`, OpenAI within `prompt_tokens` (`prompt_tokens_details.cached_tokens`), so they
 * move to `cache_read_input_tokens`. Without usage from the upstream, the estimates given.
 */
export function toAnthropicUsage(
  usage: Usage | null | undefined,
  estimatedInput: number,
  estimatedOutput: number,
): AnthropicUsage {
  if (usage == null) {
    return {
      input_tokens: estimatedInput,
      output_tokens: estimatedOutput,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    };
  }
  const details = usage.prompt_tokens_details as { readonly cached_tokens?: unknown } | undefined;
  const cached = typeof details?.cached_tokens === 'number' ? details.cached_tokens : 0;
  return {
    input_tokens: Math.max(0, usage.prompt_tokens - cached),
    output_tokens: usage.completion_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
  };
}

/**
 * A tool call's arguments as the `input` object. No arguments is `{}`; text that is not a JSON
 * object fails the response (502) rather than hand the agent an empty or wrong input.
 */
function parseToolInput(text: string): unknown {
  if (text.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch {
    input = undefined;
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new UpstreamError(
      'The upstream returned tool call arguments that are not a JSON object.',
    );
  }
  return input;
}
