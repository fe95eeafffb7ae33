import type { GatewayError } from '../../errors/gateway-error.js';
import type { SseFrameEncoder } from '../../http/sse.js';
import type { FinishReason, ToolCallDelta, Usage } from '../../openai/chat-types.js';
import type { StreamChunk } from '../../providers/provider.js';
import { outcomeOf } from './from-chat-completion.js';
import { outputMessage, outputReasoning, outputToolCall, toolCallPrefix } from './output-items.js';
import { type ResponseShell, toResponsesUsage } from './response-shell.js';
import type { ItemStatus, OutputItem } from './responses-types.js';

/** An open message or reasoning item: its text so far. */
interface TextItem {
  readonly kind: 'message' | 'reasoning';
  readonly id: string;
  readonly outputIndex: number;
  text: string;
}

/** An open tool call; announced (`output_item.added`) once its name is known. */
interface CallItem {
  readonly outputIndex: number;
  id: string;
  callId: string;
  name: string;
  arguments: string;
  announced: boolean;
  custom: boolean;
}

/**
 * The Responses stream of one request, as a state machine fed chat chunks (see
 * {@link createResponsesFrames}). Frames are built as text: a delta costs one `JSON.stringify` of
 * its string; whole items are serialized only when they close, and the request's echoed
 * parameters once per stream. (The file is a little past 300 lines: one class, whose parts all
 * share the stream's state.)
 */
class ResponsesFrames implements SseFrameEncoder {
  private sequence = 0;
  private started = false;
  /** Closed items by output index; open ones are filled in when they close. */
  private readonly output: OutputItem[] = [];
  private outputCount = 0;
  private openText: TextItem | undefined;
  /** Open tool calls by the upstream's tool-call index. */
  private readonly openCalls = new Map<number, CallItem>();
  private finishReason: FinishReason | undefined;
  private usage: Usage | undefined;
  private readonly echoJson: string;

  constructor(private readonly shell: ResponseShell) {
    this.echoJson = JSON.stringify(shell.echo).slice(1, -1);
  }

  chunk({ chunk }: StreamChunk): string {
    let frames = this.started ? '' : this.opening();
    if (chunk.usage != null) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      // The Responses API has one output; a second choice (`n` > 1) has nowhere to go.
      if (choice.index !== 0) continue;
      const { delta } = choice;
      if (delta.reasoning_content) frames += this.textDelta('reasoning', delta.reasoning_content);
      if (delta.content) frames += this.textDelta('message', delta.content);
      if (delta.tool_calls !== undefined) {
        for (const call of delta.tool_calls) frames += this.callDelta(call);
      }
      if (choice.finish_reason != null) {
        this.finishReason = choice.finish_reason;
        // Items close as soon as the model is done, not when the usage arrives: an agent can
        // start a tool call while the terminal event waits for the usage.
        frames += this.closeAll();
      }
    }
    return frames;
  }

  end(): string {
    const frames = (this.started ? '' : this.opening()) + this.closeAll();
    const { status, incompleteDetails } = outcomeOf(this.finishReason);
    const extra =
      status === 'completed'
        ? `"completed_at":${this.shell.nowSeconds()},"incomplete_details":null`
        : `"incomplete_details":${JSON.stringify(incompleteDetails)}`;
    const response = this.response(status, `${extra},"error":null,"usage":${this.usageJson()}`);
    return frames + this.frame(`response.${status}`, `,"response":${response}`);
  }

  error(error: GatewayError): string {
    const frames = this.started ? '' : this.opening();
    // Items still open go out as they stand, marked incomplete.
    const output = [...this.output];
    const open = this.openText;
    if (open !== undefined) output[open.outputIndex] = this.textItem(open, 'incomplete');
    for (const call of this.openCalls.values()) {
      output[call.outputIndex] = this.callItem(call, 'incomplete');
    }
    const failure = JSON.stringify({ code: error.code, message: error.message });
    const response = this.response(
      'failed',
      `"incomplete_details":null,"error":${failure},"usage":${this.usageJson()}`,
      JSON.stringify(output.filter((item) => item !== undefined)),
    );
    return `${frames}${this.frame('response.failed', `,"response":${response}`)}`;
  }

  /** `response.created` and `response.in_progress`, which go out with the first chunk's frames. */
  private opening(): string {
    this.started = true;
    const response = this.response(
      'in_progress',
      '"incomplete_details":null,"error":null,"usage":null',
      '[]',
    );
    return (
      this.frame('response.created', `,"response":${response}`) +
      this.frame('response.in_progress', `,"response":${response}`)
    );
  }

  /** The response object: `members` ends with usage; `output` defaults to the closed items. */
  private response(status: string, members: string, output = JSON.stringify(this.output)): string {
    return `{"id":"${this.shell.id}","object":"response","created_at":${this.shell.createdAt},"status":"${status}",${this.echoJson},"output":${output},${members}}`;
  }

  private usageJson(): string {
    return this.usage === undefined ? 'null' : JSON.stringify(toResponsesUsage(this.usage));
  }

  /** One event: `event:` equal to its `type`, and the next sequence number. */
  private frame(type: string, members: string): string {
    const sequence = this.sequence;
    this.sequence += 1;
    return `event: ${type}\ndata: {"type":"${type}","sequence_number":${sequence}${members}}\n\n`;
  }

  private textDelta(kind: TextItem['kind'], text: string): string {
    let frames = '';
    let item = this.openText;
    if (item?.kind !== kind) {
      frames += this.closeAll();
      item = this.openTextItem(kind);
      frames += this.announceText(item);
    }
    item.text += text;
    const type =
      kind === 'message' ? 'response.output_text.delta' : 'response.reasoning_text.delta';
    const logprobs = kind === 'message' ? ',"logprobs":[]' : '';
    frames += this.frame(
      type,
      `,"item_id":"${item.id}","output_index":${item.outputIndex},"content_index":0,"delta":${JSON.stringify(text)}${logprobs}`,
    );
    return frames;
  }

  private openTextItem(kind: TextItem['kind']): TextItem {
    const outputIndex = this.outputCount;
    this.outputCount += 1;
    const id = this.shell.itemId(kind === 'message' ? 'msg' : 'rs', outputIndex);
    this.openText = { kind, id, outputIndex, text: '' };
    return this.openText;
  }

  private announceText(item: TextItem): string {
    const head = `,"output_index":${item.outputIndex}`;
    const [added, part] =
      item.kind === 'message'
        ? [
            `{"id":"${item.id}","type":"message","status":"in_progress","role":"assistant","content":[]}`,
            '{"type":"output_text","text":"","annotations":[],"logprobs":[]}',
          ]
        : [
            `{"id":"${item.id}","type":"reasoning","status":"in_progress","summary":[]}`,
            '{"type":"reasoning_text","text":""}',
          ];
    return (
      this.frame('response.output_item.added', `${head},"item":${added}`) +
      this.frame(
        'response.content_part.added',
        `,"item_id":"${item.id}"${head},"content_index":0,"part":${part}`,
      )
    );
  }

  private callDelta(delta: ToolCallDelta): string {
    let frames = this.openText === undefined ? '' : this.closeText(this.openText);
    let call = this.openCalls.get(delta.index);
    if (call === undefined) {
      const outputIndex = this.outputCount;
      this.outputCount += 1;
      call = {
        outputIndex,
        id: '',
        callId: delta.id ?? `call_${this.shell.id.slice(5)}_${outputIndex}`,
        name: '',
        arguments: '',
        announced: false,
        custom: false,
      };
      this.openCalls.set(delta.index, call);
    }
    const piece = delta.function?.arguments ?? '';
    call.arguments += piece;
    if (call.announced) {
      // The rest of a name sent in pieces; some servers repeat the whole name in every delta.
      const name = delta.function?.name;
      if (name && name !== call.name) call.name += name;
      // A custom tool's input is unwrapped from its JSON when the call closes.
      if (!call.custom && piece !== '') frames += this.argumentsDelta(call, piece);
      return frames;
    }
    if (delta.id !== undefined) call.callId = delta.id;
    if (delta.function?.name) call.name += delta.function.name;
    if (call.name !== '') frames += this.announceCall(call);
    return frames;
  }

  private announceCall(call: CallItem): string {
    call.announced = true;
    call.custom = this.shell.catalogue.fromUpstream(call.name)?.kind === 'custom';
    call.id = this.shell.itemId(toolCallPrefix(this.shell.catalogue, call.name), call.outputIndex);
    // Announced empty: the arguments (or the custom input) follow as deltas.
    const item = this.callItem({ ...call, arguments: '' }, 'in_progress');
    let frames = this.frame(
      'response.output_item.added',
      `,"output_index":${call.outputIndex},"item":${JSON.stringify(item)}`,
    );
    if (!call.custom && call.arguments !== '') frames += this.argumentsDelta(call, call.arguments);
    return frames;
  }

  private argumentsDelta(call: CallItem, piece: string): string {
    return this.frame(
      'response.function_call_arguments.delta',
      `,"item_id":"${call.id}","output_index":${call.outputIndex},"delta":${JSON.stringify(piece)}`,
    );
  }

  /** Closes every open item, in output order (text or reasoning first: calls follow it). */
  private closeAll(): string {
    let frames = this.openText === undefined ? '' : this.closeText(this.openText);
    for (const call of this.openCalls.values()) frames += this.closeCall(call);
    this.openCalls.clear();
    return frames;
  }

  private closeText(item: TextItem): string {
    this.openText = undefined;
    const done = this.textItem(item, this.itemStatus(item.outputIndex));
    this.output[item.outputIndex] = done;
    const head = `,"item_id":"${item.id}","output_index":${item.outputIndex},"content_index":0`;
    const text = JSON.stringify(item.text);
    const textDone =
      item.kind === 'message'
        ? this.frame('response.output_text.done', `${head},"text":${text},"logprobs":[]`)
        : this.frame('response.reasoning_text.done', `${head},"text":${text}`);
    return (
      textDone +
      this.frame(
        'response.content_part.done',
        `${head},"part":${JSON.stringify(done.content[0])}`,
      ) +
      this.itemDone(done, item.outputIndex)
    );
  }

  private closeCall(call: CallItem): string {
    let frames = call.announced ? '' : this.announceCall(call);
    const done = this.callItem(call, this.itemStatus(call.outputIndex));
    this.output[call.outputIndex] = done;
    const head = `,"item_id":"${call.id}","output_index":${call.outputIndex}`;
    if (done.type === 'custom_tool_call') {
      const input = JSON.stringify(done.input);
      frames += this.frame('response.custom_tool_call_input.delta', `${head},"delta":${input}`);
      frames += this.frame('response.custom_tool_call_input.done', `${head},"input":${input}`);
    } else {
      frames += this.frame(
        'response.function_call_arguments.done',
        `${head},"name":${JSON.stringify(done.name)},"arguments":${JSON.stringify(done.arguments)}`,
      );
    }
    return frames + this.itemDone(done, call.outputIndex);
  }

  private itemDone(item: OutputItem, outputIndex: number): string {
    return this.frame(
      'response.output_item.done',
      `,"output_index":${outputIndex},"item":${JSON.stringify(item)}`,
    );
  }

  private textItem(item: TextItem, status: ItemStatus) {
    return item.kind === 'message'
      ? outputMessage(item.id, item.text, status)
      : outputReasoning(item.id, item.text, status);
  }

  private callItem(call: CallItem, status: ItemStatus) {
    const upstreamCall = { callId: call.callId, name: call.name, arguments: call.arguments };
    return outputToolCall(this.shell.catalogue, call.id, upstreamCall, status);
  }

  /** A length stop cuts the last item only. */
  private itemStatus(outputIndex: number): ItemStatus {
    const cut = outcomeOf(this.finishReason).status === 'incomplete';
    return cut && outputIndex === this.outputCount - 1 ? 'incomplete' : 'completed';
  }
}

/**
 * The Responses API's frames for one stream: `response.created` and `response.in_progress` with
 * the first chunk; per output item `response.output_item.added`, its deltas, and its `…done`
 * events ending in `response.output_item.done` with the whole item; then one terminal event with
 * the same response id, every item and the upstream's usage: `response.completed`, or
 * `response.incomplete` after a length stop (at the end, once the final usage chunk is in), or
 * `response.failed` after a failure. Every frame is `event: <type>` with that `type` in its data
 * and a `sequence_number` counting from 0.
 */
export function createResponsesFrames(shell: ResponseShell): SseFrameEncoder {
  return new ResponsesFrames(shell);
}
