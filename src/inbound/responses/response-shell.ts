import { randomUUID } from 'node:crypto';
import type { Usage } from '../../openai/chat-types.js';
import type { ToolCatalogue } from './responses-tools.js';
import type { ResponsesRequest, ResponsesUsage } from './responses-types.js';

/**
 * What every form of one response shares, made once per request: its id and creation time, how
 * its items are named, the tools map back, and the request's parameters as a response echoes them.
 */
export interface ResponseShell {
  /** `resp_…`, the same in `response.created` and the terminal event. */
  readonly id: string;
  /** Seconds since the epoch. */
  readonly createdAt: number;
  readonly catalogue: ToolCatalogue;
  /** The echoed parameters (model, tools, tool_choice, text, …), as the SDK's `Response` has them. */
  readonly echo: Readonly<Record<string, unknown>>;
  /** The time now, in seconds since the epoch (`completed_at`). */
  nowSeconds(): number;
  /** An item id: `msg_…`, `fc_…`, `ctc_…` or `rs_…`, unique within and across responses. */
  itemId(prefix: ItemIdPrefix, outputIndex: number): string;
}

/** The id prefixes OpenAI gives output items. */
export type ItemIdPrefix = 'msg' | 'fc' | 'ctc' | 'rs';

/** Options of {@link createResponseShell}: injected in tests. */
export interface ResponseShellOptions {
  readonly now?: () => number;
  readonly generateId?: () => string;
}

/** One random UUID per response; item ids add their index to it, so they cost no more randomness. */
function randomSuffix(): string {
  return randomUUID().replaceAll('-', '');
}

/** Makes the shell of the response to `request`. */
export function createResponseShell(
  request: ResponsesRequest,
  catalogue: ToolCatalogue,
  options: ResponseShellOptions = {},
): ResponseShell {
  const suffix = (options.generateId ?? randomSuffix)();
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  return {
    id: `resp_${suffix}`,
    createdAt: nowSeconds(),
    nowSeconds,
    catalogue,
    echo: responseEcho(request),
    itemId: (prefix, outputIndex) => `${prefix}_${suffix}_${outputIndex}`,
  };
}

/**
 * The parameters a `Response` repeats from its request, with OpenAI's defaults where the request
 * left one out. `store` is false whatever was asked: nothing is stored here.
 */
function responseEcho(request: ResponsesRequest): Record<string, unknown> {
  return {
    model: request.model,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: {
      effort: request.reasoning?.effort ?? null,
      summary: request.reasoning?.summary ?? null,
    },
    store: false,
    temperature: request.temperature ?? 1,
    text: {
      format: request.text?.format ?? { type: 'text' },
      verbosity: request.text?.verbosity ?? 'medium',
    },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    background: false,
  };
}

/** A chat `usage` in the Responses shape, every detail present (0 when the upstream gave none). */
export function toResponsesUsage(usage: Usage): ResponsesUsage {
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: detail(usage.prompt_tokens_details, 'cached_tokens') },
    output_tokens: usage.completion_tokens,
    output_tokens_details: {
      reasoning_tokens: detail(usage.completion_tokens_details, 'reasoning_tokens'),
    },
    total_tokens: usage.total_tokens,
  };
}

function detail(details: unknown, key: string): number {
  if (typeof details !== 'object' || details === null) return 0;
  const value = (details as Record<string, unknown>)[key];
  return typeof value === 'number' ? value : 0;
}
