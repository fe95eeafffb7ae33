import type { ChatCompletion, FinishReason } from '../../openai/chat-types.js';
import { outputMessage, outputReasoning, outputToolCall, toolCallPrefix } from './output-items.js';
import { type ResponseShell, toResponsesUsage } from './response-shell.js';
import type { IncompleteDetails, OutputItem, ResponseStatus } from './responses-types.js';

/** A response's status and, when it stopped short, why. */
export interface Outcome {
  readonly status: Extract<ResponseStatus, 'completed' | 'incomplete'>;
  readonly incompleteDetails: IncompleteDetails | null;
}

const COMPLETED: Outcome = { status: 'completed', incompleteDetails: null };

/** `length` and `content_filter` stop a response short; every other finish completes it. */
export function outcomeOf(finishReason: FinishReason | null | undefined): Outcome {
  if (finishReason === 'length') {
    return { status: 'incomplete', incompleteDetails: { reason: 'max_output_tokens' } };
  }
  if (finishReason === 'content_filter') {
    return { status: 'incomplete', incompleteDetails: { reason: 'content_filter' } };
  }
  return COMPLETED;
}

/**
 * A chat completion as a `Response`: the first choice's reasoning, text (or refusal) and tool
 * calls become output items in that order, none of them empty; the finish reason the status. A
 * length stop cuts the last item only: it alone is `incomplete`.
 */
export function toResponse(completion: ChatCompletion, shell: ResponseShell): object {
  const choice = completion.choices[0];
  const outcome = outcomeOf(choice?.finish_reason);
  const output: OutputItem[] = [];
  const message = choice?.message;
  if (message !== undefined) {
    if (typeof message.reasoning_content === 'string' && message.reasoning_content !== '') {
      const id = shell.itemId('rs', output.length);
      output.push(outputReasoning(id, message.reasoning_content, 'completed'));
    }
    if (typeof message.content === 'string' && message.content !== '') {
      output.push(outputMessage(shell.itemId('msg', output.length), message.content, 'completed'));
    } else if (typeof message.refusal === 'string' && message.refusal !== '') {
      output.push({
        type: 'message',
        id: shell.itemId('msg', output.length),
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'refusal', refusal: message.refusal }],
      });
    }
    for (const call of message.tool_calls ?? []) {
      const id = shell.itemId(toolCallPrefix(shell.catalogue, call.function.name), output.length);
      const upstreamCall = {
        callId: call.id,
        name: call.function.name,
        arguments: call.function.arguments,
      };
      output.push(outputToolCall(shell.catalogue, id, upstreamCall, 'completed'));
    }
  }
  const last = output.at(-1);
  if (outcome.status === 'incomplete' && last !== undefined) {
    output[output.length - 1] = { ...last, status: 'incomplete' };
  }
  return {
    id: shell.id,
    object: 'response',
    created_at: shell.createdAt,
    status: outcome.status,
    ...(outcome.status === 'completed' ? { completed_at: shell.nowSeconds() } : {}),
    error: null,
    incomplete_details: outcome.incompleteDetails,
    ...shell.echo,
    output,
    usage: completion.usage === undefined ? null : toResponsesUsage(completion.usage),
  };
}
