import { ERROR_CODES } from '../../errors/error-codes.js';
import { InvalidRequestError, ValidationError } from '../../errors/gateway-error.js';
import type { ChatMessage, ContentPart, ToolCall } from '../../openai/chat-types.js';
import { CUSTOM_INPUT_PARAMETER, type ToolCatalogue } from './responses-tools.js';
import type {
  ResponsesContentPart,
  ResponsesInputItem,
  ResponsesRequest,
} from './responses-types.js';

/** The conversation as Chat Completions messages, and the input item types that were left out. */
export interface ChatConversation {
  readonly messages: ChatMessage[];
  readonly droppedItems: string[];
}

/** A message being built: function calls that follow an assistant message join it. */
interface DraftMessage {
  role: ChatMessage['role'];
  content: string | ContentPart[] | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}

/** A Map, not an object: a role such as `constructor` must not find a prototype's property. */
const ROLES: ReadonlyMap<string, ChatMessage['role']> = new Map([
  ['user', 'user'],
  ['assistant', 'assistant'],
  ['system', 'system'],
  // `developer` is OpenAI's newer name for system instructions; many OpenAI-compatible servers
  // and chat templates know only `system`.
  ['developer', 'system'],
]);

/**
 * `instructions` and `input` as chat messages: `instructions` first, as a system message; input
 * messages by role; consecutive `function_call` and `custom_tool_call` items (and an assistant
 * message before them) as one assistant turn with several tool calls; their outputs as tool
 * messages. `reasoning` items are the upstream's own business and are left out, as are item types
 * the gateway does not know. An `item_reference` points at stored state, which this stateless
 * gateway has none of.
 */
export function toChatMessages(
  request: ResponsesRequest,
  catalogue: ToolCatalogue,
): ChatConversation {
  const drafts: DraftMessage[] = [];
  const droppedItems: string[] = [];
  const { instructions, input } = request;
  if (typeof instructions === 'string' && instructions !== '') {
    drafts.push({ role: 'system', content: instructions });
  } else if (Array.isArray(instructions)) {
    addItems(drafts, droppedItems, instructions, 'instructions', catalogue);
  }
  if (typeof input === 'string') drafts.push({ role: 'user', content: input });
  else addItems(drafts, droppedItems, input, 'input', catalogue);
  return { messages: drafts, droppedItems };
}

function addItems(
  drafts: DraftMessage[],
  droppedItems: string[],
  items: readonly ResponsesInputItem[],
  field: string,
  catalogue: ToolCatalogue,
): void {
  items.forEach((item, index) => {
    const param = `${field}[${index}]`;
    switch (item.type ?? 'message') {
      case 'message':
        drafts.push(toMessage(item, param));
        return;
      case 'function_call':
        addToolCall(drafts, {
          id: requireString(item.call_id, `${param}.call_id`),
          type: 'function',
          function: {
            name: catalogue.toUpstream(requireString(item.name, `${param}.name`), item.namespace),
            arguments: requireString(item.arguments, `${param}.arguments`),
          },
        });
        return;
      case 'custom_tool_call':
        addToolCall(drafts, {
          id: requireString(item.call_id, `${param}.call_id`),
          type: 'function',
          function: {
            name: catalogue.toUpstream(requireString(item.name, `${param}.name`), item.namespace),
            arguments: JSON.stringify({
              [CUSTOM_INPUT_PARAMETER]: requireString(item.input, `${param}.input`),
            }),
          },
        });
        return;
      case 'function_call_output':
      case 'custom_tool_call_output':
        drafts.push({
          role: 'tool',
          tool_call_id: requireString(item.call_id, `${param}.call_id`),
          content: toolOutputText(item.output, `${param}.output`),
        });
        return;
      case 'item_reference':
        throw new InvalidRequestError(
          'Items are not stored by this gateway: send the whole item, not an item_reference.',
          ERROR_CODES.PREVIOUS_RESPONSE_NOT_FOUND.code,
          param,
        );
      default:
        // `reasoning` (the upstream keeps its own), and types from hosted tools or newer clients.
        droppedItems.push(String(item.type));
    }
  });
}

/** Appends a call to the assistant turn in progress, or starts one. */
function addToolCall(drafts: DraftMessage[], call: ToolCall): void {
  const last = drafts.at(-1);
  if (last?.role === 'assistant') {
    last.tool_calls ??= [];
    last.tool_calls.push(call);
  } else {
    drafts.push({ role: 'assistant', content: null, tool_calls: [call] });
  }
}

function toMessage(item: ResponsesInputItem, param: string): DraftMessage {
  const role = typeof item.role === 'string' ? ROLES.get(item.role) : undefined;
  if (role === undefined) {
    throw new ValidationError(
      `Invalid request: '${param}.role' must be one of user, assistant, system, developer.`,
      `${param}.role`,
    );
  }
  const { content } = item;
  if (typeof content === 'string') return { role, content };
  if (!Array.isArray(content)) {
    throw new ValidationError(
      `Invalid request: '${param}.content' must be a string or an array of content parts.`,
      `${param}.content`,
    );
  }
  return { role, content: toContent(content, `${param}.content`) };
}

/**
 * Text parts joined into one string (every chat server takes a string, not all take parts for
 * every role), or parts when there is an image. Uploaded files and audio live in OpenAI's storage
 * or need a model this path cannot promise: refused, naming the part.
 */
function toContent(parts: readonly ResponsesContentPart[], param: string): string | ContentPart[] {
  const converted: ContentPart[] = [];
  let hasImage = false;
  parts.forEach((part, index) => {
    const partParam = `${param}[${index}]`;
    const text = partText(part);
    if (text !== undefined) {
      converted.push({ type: 'text', text });
    } else if (part.type === 'input_image' && typeof part.image_url === 'string') {
      hasImage = true;
      const detail = typeof part.detail === 'string' ? { detail: part.detail } : {};
      converted.push({ type: 'image_url', image_url: { url: part.image_url, ...detail } });
    } else {
      throw new ValidationError(
        `Content parts of type '${String(part.type).slice(0, 64)}' are not supported here; send text, or images as URLs.`,
        `${partParam}.type`,
      );
    }
  });
  if (hasImage) return converted;
  return converted.map((part) => (part as { text: string }).text).join('\n');
}

function partText(part: ResponsesContentPart): string | undefined {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'text':
      return typeof part.text === 'string' ? part.text : undefined;
    case 'refusal':
      return typeof part.refusal === 'string' ? part.refusal : undefined;
    default:
      return undefined;
  }
}

/**
 * A tool result as text: chat servers take only text in tool messages, so an image a tool
 * returned (Codex's `view_image`) is named, not sent.
 */
function toolOutputText(output: ResponsesInputItem['output'], param: string): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) {
    throw new ValidationError(`Invalid request: '${param}' must be a string or an array.`, param);
  }
  return output.map((part) => partText(part) ?? `[${String(part.type)} omitted]`).join('\n');
}

function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string') {
    throw new ValidationError(`Invalid request: '${param}' must be a string.`, param);
  }
  return value;
}
