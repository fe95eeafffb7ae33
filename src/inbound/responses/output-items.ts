import type { ItemIdPrefix } from './response-shell.js';
import { CUSTOM_INPUT_PARAMETER, type ToolCatalogue } from './responses-tools.js';
import type {
  ItemStatus,
  OutputCustomToolCall,
  OutputFunctionCall,
  OutputMessage,
  OutputReasoning,
} from './responses-types.js';

/** An assistant message with one `output_text` part. */
export function outputMessage(id: string, text: string, status: ItemStatus): OutputMessage {
  return {
    type: 'message',
    id,
    status,
    role: 'assistant',
    content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
  };
}

/** A reasoning item carrying the model's reasoning text. */
export function outputReasoning(id: string, text: string, status: ItemStatus): OutputReasoning {
  return {
    type: 'reasoning',
    id,
    status,
    summary: [],
    content: [{ type: 'reasoning_text', text }],
  };
}

/** One upstream tool call, as the chat side sees it. */
export interface UpstreamCall {
  /** The call id the client answers with (`call_…`). */
  readonly callId: string;
  /** The flat function name the upstream called. */
  readonly name: string;
  /** The JSON text of its arguments. */
  readonly arguments: string;
}

/**
 * The output item of an upstream tool call: a `custom_tool_call` with its raw input when the
 * function stands for a custom tool, else a `function_call`, named as the client named the tool
 * (with its `namespace` when it came out of one). A name the client never sent stays a function
 * call under that name: the client decides what to do with it.
 */
export function outputToolCall(
  catalogue: ToolCatalogue,
  id: string,
  call: UpstreamCall,
  status: ItemStatus,
): OutputFunctionCall | OutputCustomToolCall {
  const origin = catalogue.fromUpstream(call.name);
  const namespace = origin?.namespace === undefined ? {} : { namespace: origin.namespace };
  const name = origin?.name ?? call.name;
  if (origin?.kind === 'custom') {
    const input = unwrapCustomInput(call.arguments);
    return {
      type: 'custom_tool_call',
      id,
      status,
      call_id: call.callId,
      name,
      input,
      ...namespace,
    };
  }
  return {
    type: 'function_call',
    id,
    status,
    call_id: call.callId,
    name,
    arguments: call.arguments,
    ...namespace,
  };
}

/** The id prefix of a call's item: `ctc` for a custom tool's, `fc` for a function's. */
export function toolCallPrefix(catalogue: ToolCatalogue, name: string): ItemIdPrefix {
  return catalogue.fromUpstream(name)?.kind === 'custom' ? 'ctc' : 'fc';
}

/**
 * The raw text of a custom tool's call: the string parameter the upstream filled in. Arguments
 * that are not that object (a model that wrote the patch bare) are taken as the text itself.
 */
export function unwrapCustomInput(argumentsText: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(argumentsText);
  } catch {
    return argumentsText;
  }
  if (typeof parsed === 'object' && parsed !== null) {
    const input = (parsed as Record<string, unknown>)[CUSTOM_INPUT_PARAMETER];
    if (typeof input === 'string') return input;
  }
  return typeof parsed === 'string' ? parsed : argumentsText;
}
