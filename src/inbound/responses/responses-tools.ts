import { ValidationError } from '../../errors/gateway-error.js';
import type { FunctionTool, ToolChoice } from '../../openai/chat-types.js';
import type { ResponsesTool, ResponsesToolChoice } from './responses-types.js';

/** What a tool name the upstream calls stands for on the client's side. */
export interface ToolOrigin {
  /** `custom` tools take one raw string: their call comes back as a `custom_tool_call`. */
  readonly kind: 'function' | 'custom';
  readonly name: string;
  /** The `namespace` tool the function was flattened out of. */
  readonly namespace: string | undefined;
}

/** The two-way map between the client's tools and the flat functions the upstream sees. */
export interface ToolCatalogue {
  /** The client's tool behind an upstream function name; undefined for a name it never sent. */
  fromUpstream(name: string): ToolOrigin | undefined;
  /** The upstream's name for a client tool (its own name when it was not renamed). */
  toUpstream(name: string, namespace: string | undefined): string;
}

/** The request's tools as Chat Completions takes them. */
export interface ChatTools {
  readonly tools: FunctionTool[] | undefined;
  readonly toolChoice: ToolChoice | undefined;
  readonly catalogue: ToolCatalogue;
  /** The types of the hosted tools left out (`web_search`, `file_search`, …), for the log. */
  readonly dropped: string[];
}

/** The one string parameter a custom tool becomes (its call's JSON is unwrapped on the way back). */
export const CUSTOM_INPUT_PARAMETER = 'input';

const CUSTOM_PARAMETERS = {
  type: 'object',
  properties: {
    [CUSTOM_INPUT_PARAMETER]: { type: 'string', description: "The tool's whole input, as text." },
  },
  required: [CUSTOM_INPUT_PARAMETER],
  additionalProperties: false,
} as const;

const NO_TOOLS: ToolCatalogue = {
  fromUpstream: () => undefined,
  toUpstream: (name) => name,
};

/**
 * Translates `tools` and `tool_choice`: function tools as they are; a custom tool (Codex's
 * `apply_patch`, with its grammar) as a function of one string; a `namespace` flattened into its
 * functions, each under its own name unless another tool has that name too (then
 * `namespace__name`). Hosted tools run by OpenAI's servers (`web_search`, `file_search`,
 * `tool_search`, `code_interpreter`, `image_generation`, `mcp`, …) have nothing to run them
 * behind a chat upstream: they are left out, not refused, since clients such as Codex send them on
 * every request.
 */
export function toChatTools(
  tools: readonly ResponsesTool[] | null | undefined,
  choice: ResponsesToolChoice | null | undefined,
): ChatTools {
  const dropped: string[] = [];
  const members: { tool: NamedTool; kind: ToolOrigin['kind']; namespace?: string }[] = [];
  (tools ?? []).forEach((tool, index) => {
    if (tool.type === 'function' || tool.type === 'custom') {
      members.push({ tool: named(tool, `tools[${index}]`), kind: tool.type });
    } else if (tool.type === 'namespace') {
      const namespace = named(tool, `tools[${index}]`).name;
      (tool.tools ?? []).forEach((member, memberIndex) => {
        if (member.type === 'function' || member.type === 'custom') {
          const param = `tools[${index}].tools[${memberIndex}]`;
          members.push({ tool: named(member, param), kind: member.type, namespace });
        } else dropped.push(member.type);
      });
    } else dropped.push(tool.type);
  });
  if (members.length === 0) {
    return { tools: undefined, toolChoice: undefined, catalogue: NO_TOOLS, dropped };
  }

  const uses = new Map<string, number>();
  for (const { tool } of members) uses.set(tool.name, (uses.get(tool.name) ?? 0) + 1);
  const origins = new Map<string, ToolOrigin>();
  const upstreamNames = new Map<string, string>();
  const chatTools = members.map(({ tool, kind, namespace }) => {
    const { name } = tool;
    const upstreamName =
      namespace !== undefined && (uses.get(name) ?? 0) > 1 ? `${namespace}__${name}` : name;
    origins.set(upstreamName, { kind, name, namespace });
    upstreamNames.set(originKey(name, namespace), upstreamName);
    return kind === 'custom'
      ? customFunction(tool, upstreamName)
      : plainFunction(tool, upstreamName);
  });
  const catalogue: ToolCatalogue = {
    fromUpstream: (name) => origins.get(name),
    toUpstream: (name, namespace) => upstreamNames.get(originKey(name, namespace)) ?? name,
  };
  return { tools: chatTools, toolChoice: toChatToolChoice(choice, catalogue), catalogue, dropped };
}

type NamedTool = ResponsesTool & { readonly name: string };

/** A tool the upstream is to call needs a name: a 422 naming the field otherwise. */
function named(tool: ResponsesTool, param: string): NamedTool {
  if (typeof tool.name !== 'string' || tool.name === '') {
    throw new ValidationError(
      `Invalid request: '${param}.name' must be a non-empty string.`,
      `${param}.name`,
    );
  }
  return tool as NamedTool;
}

function originKey(name: string, namespace: string | undefined): string {
  return namespace === undefined ? name : `${namespace}\u0000${name}`;
}

function plainFunction(tool: ResponsesTool, name: string): FunctionTool {
  return {
    type: 'function',
    function: {
      name,
      ...(typeof tool.description === 'string' ? { description: tool.description } : {}),
      ...(tool.parameters == null ? {} : { parameters: tool.parameters }),
      ...(tool.strict === true ? { strict: true } : {}),
    },
  };
}

/** The grammar goes into the description: it is all the model has to shape the raw input by. */
function customFunction(tool: ResponsesTool, name: string): FunctionTool {
  const format = tool.format;
  let description = typeof tool.description === 'string' ? tool.description : '';
  if (format?.type === 'grammar' && typeof format.definition === 'string') {
    const syntax = typeof format.syntax === 'string' ? `${format.syntax} ` : '';
    description += `\n\nThe input must follow this ${syntax}grammar:\n${format.definition}`;
  }
  return {
    type: 'function',
    function: { name, description: description.trim(), parameters: CUSTOM_PARAMETERS },
  };
}

/**
 * A mode stays as it is; a named function or custom tool is forced by its upstream name; the
 * `allowed_tools` form keeps its mode (the tools stay offered). A hosted tool's choice names a
 * tool that was left out, so it is dropped too (the model then chooses).
 */
function toChatToolChoice(
  choice: ResponsesToolChoice | null | undefined,
  catalogue: ToolCatalogue,
): ToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') return choice;
  if ((choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') {
    const namespace = typeof choice.namespace === 'string' ? choice.namespace : undefined;
    return { type: 'function', function: { name: catalogue.toUpstream(choice.name, namespace) } };
  }
  if (choice.type === 'allowed_tools' && (choice.mode === 'auto' || choice.mode === 'required')) {
    return choice.mode;
  }
  return undefined;
}
