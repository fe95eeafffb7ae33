import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  FunctionTool,
  ToolCall,
  ToolChoice,
} from '../../openai/chat-types.js';
import type {
  AnthropicBlock,
  AnthropicMessageParam,
  AnthropicTool,
  AnthropicToolChoice,
  MessagesRequest,
} from './anthropic-wire.js';

type MutableChatRequest = { -readonly [Key in keyof ChatRequest]: ChatRequest[Key] };

/**
 * Translates a Messages request into the chat request the pipeline serves. What has no
 * equivalent upstream is left out rather than refused (docs/inbound-apis.md): `top_k` (Ollama's
 * adapter does not read it, and some OpenAI-compatible vendors refuse fields they do not know),
 * `thinking` (a model that thinks does so by default, and Ollama refuses `think` for a model
 * that cannot), `metadata`, thinking blocks of the history, `cache_control`, unknown blocks and fields, and
 * Anthropic-defined tools (see {@link droppedToolNames}). `stream` is the pipeline's business.
 */
export function toChatRequest(request: MessagesRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const system = systemText(request.system);
  if (system !== '') messages.push({ role: 'system', content: system });
  for (const message of request.messages) appendMessage(messages, message);
  const chat: MutableChatRequest = {
    model: request.model,
    messages,
    max_tokens: request.max_tokens,
  };
  if (request.stop_sequences != null && request.stop_sequences.length > 0) {
    chat.stop = [...request.stop_sequences];
  }
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  const tools = (request.tools ?? []).filter(isCustomTool).map(toFunctionTool);
  // OpenAI refuses a tool_choice without tools: both go, or neither.
  if (tools.length > 0) {
    chat.tools = tools;
    const choice = request.tool_choice;
    const toolChoice = toToolChoice(choice);
    if (toolChoice !== undefined) chat.tool_choice = toolChoice;
    if (choice?.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  return chat;
}

/** The tools {@link toChatRequest} leaves out: Anthropic-defined ones, which have no schema. */
export function droppedToolNames(request: Pick<MessagesRequest, 'tools'>): string[] {
  return (request.tools ?? []).filter((tool) => !isCustomTool(tool)).map((tool) => tool.name);
}

/** A tool with a schema of its own; server tools (`web_search_…`) and versioned ones have none. */
function isCustomTool(tool: AnthropicTool): boolean {
  return typeof tool.input_schema === 'object' && tool.input_schema !== null;
}

function toFunctionTool(tool: AnthropicTool): FunctionTool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      ...(tool.input_schema === undefined ? {} : { parameters: tool.input_schema }),
    },
  };
}

/** `auto`, `any` (a call is required), `none`, `tool` (that one); an unknown type is left out. */
function toToolChoice(choice: AnthropicToolChoice | null | undefined): ToolChoice | undefined {
  switch (choice?.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return typeof choice.name === 'string'
        ? { type: 'function', function: { name: choice.name } }
        : 'required';
    default:
      return undefined;
  }
}

/**
 * The attribution line Claude Code puts first in its system prompt. It changes on every request,
 * so a local server's prefix cache (the whole system prompt and history) would never hit.
 */
const ATTRIBUTION = 'x-anthropic-billing-header:';

/** `text` without a leading attribution line (and the blank lines after it). */
export function withoutAttribution(text: string): string {
  if (!text.startsWith(ATTRIBUTION)) return text;
  const newline = text.indexOf('\n');
  return newline === -1 ? '' : text.slice(newline + 1).replace(/^\n+/, '');
}

/** The system prompt as one text: its text blocks, each without the attribution line. */
function systemText(system: MessagesRequest['system']): string {
  if (system == null) return '';
  if (typeof system === 'string') return withoutAttribution(system);
  const texts: string[] = [];
  for (const block of system) {
    if (block.type !== 'text' || typeof block.text !== 'string') continue;
    const text = withoutAttribution(block.text);
    if (text !== '') texts.push(text);
  }
  return texts.join('\n\n');
}

/** Texts of `text` blocks, empty ones left out. */
function blockTexts(blocks: readonly AnthropicBlock[]): string[] {
  const texts: string[] = [];
  for (const block of blocks) {
    // A tool result's blocks are not checked by the schema: anything may be there.
    if (block?.type === 'text' && typeof block.text === 'string' && block.text !== '') {
      texts.push(block.text);
    }
  }
  return texts;
}

function appendMessage(out: ChatMessage[], message: AnthropicMessageParam): void {
  const { role, content } = message;
  if (role === 'system') {
    // Kept where it stands: moving it would change the prompt's prefix on every turn.
    const text = typeof content === 'string' ? content : blockTexts(content).join('\n\n');
    const system = withoutAttribution(text);
    if (system !== '') out.push({ role: 'system', content: system });
  } else if (typeof content === 'string') {
    if (content !== '') out.push({ role: role === 'assistant' ? 'assistant' : 'user', content });
  } else if (role === 'assistant') {
    appendAssistant(out, content);
  } else {
    appendUser(out, content);
  }
}

/** Text and tool calls; thinking blocks are left out (see {@link toChatRequest}). */
function appendAssistant(out: ChatMessage[], blocks: readonly AnthropicBlock[]): void {
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of blocks) {
    if (block.type === 'text') {
      if (typeof block.text === 'string' && block.text !== '') texts.push(block.text);
    } else if (
      block.type === 'tool_use' &&
      typeof block.id === 'string' &&
      typeof block.name === 'string'
    ) {
      const input = JSON.stringify(block.input ?? {});
      toolCalls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: input },
      });
    }
  }
  if (texts.length === 0 && toolCalls.length === 0) return;
  out.push({
    role: 'assistant',
    content: texts.length === 0 ? null : texts.join('\n'),
    ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
  });
}

/**
 * Tool results become `tool` messages, first, as OpenAI wants them right after the calls; the
 * rest (text, images, and the images of tool results, which a `tool` message cannot carry)
 * becomes one user message after them.
 */
function appendUser(out: ChatMessage[], blocks: readonly AnthropicBlock[]): void {
  const parts: ContentPart[] = [];
  let images = false;
  for (const block of blocks) {
    if (block.type === 'text') {
      if (typeof block.text === 'string' && block.text !== '') {
        parts.push({ type: 'text', text: block.text });
      }
    } else if (block.type === 'image') {
      const url = imageUrl(block.source);
      if (url !== undefined) {
        parts.push({ type: 'image_url', image_url: { url } });
        images = true;
      }
    } else if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
      out.push({ role: 'tool', tool_call_id: block.tool_use_id, content: toolResultText(block) });
      if (Array.isArray(block.content)) {
        for (const inner of block.content as AnthropicBlock[]) {
          const url = inner?.type === 'image' ? imageUrl(inner.source) : undefined;
          if (url === undefined) continue;
          parts.push({ type: 'image_url', image_url: { url } });
          images = true;
        }
      }
    }
  }
  if (parts.length === 0) return;
  // Plain text goes as a string: every upstream takes that, not all take parts.
  const content = images
    ? parts
    : parts.map((part) => (part as { readonly text: string }).text).join('\n');
  out.push({ role: 'user', content });
}

/** A tool result's text; `is_error` results say so first, as the tool message has no flag. */
function toolResultText(block: AnthropicBlock): string {
  const { content } = block;
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? blockTexts(content as AnthropicBlock[]).join('\n')
        : '';
  return block.is_error === true ? `Error: ${text}` : text;
}

/** A base64 image as a data URL, a URL image as its URL; other sources (files) are left out. */
function imageUrl(source: unknown): string | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const { type, media_type: mediaType, data, url } = source as Record<string, unknown>;
  if (type === 'base64' && typeof mediaType === 'string' && typeof data === 'string') {
    return `data:${mediaType};base64,${data}`;
  }
  return type === 'url' && typeof url === 'string' ? url : undefined;
}
