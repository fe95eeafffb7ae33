/**
 * The Anthropic Messages API as we accept and answer it (docs.anthropic.com, "Messages"). Request
 * shapes are read defensively: clients add fields and block types every month, so every field is
 * optional to the reader and anything unknown is skipped, never refused.
 */

/** A content block of a request; `type` decides which other fields count. */
export interface AnthropicBlock {
  readonly type: string;
  readonly text?: unknown;
  /** `image`: `{type: 'base64', media_type, data}` or `{type: 'url', url}`. */
  readonly source?: unknown;
  /** `tool_use`. */
  readonly id?: unknown;
  readonly name?: unknown;
  readonly input?: unknown;
  /** `tool_result`. */
  readonly tool_use_id?: unknown;
  readonly content?: unknown;
  readonly is_error?: unknown;
}

/** One turn; `role: 'system'` is not Anthropic's but Claude Code sends it for non-Claude models. */
export interface AnthropicMessageParam {
  readonly role: string;
  readonly content: string | readonly AnthropicBlock[];
}

/** A tool: custom tools have `input_schema`; Anthropic-defined ones (server tools) do not. */
export interface AnthropicTool {
  readonly name: string;
  readonly type?: string;
  readonly description?: string;
  readonly input_schema?: Record<string, unknown>;
}

export interface AnthropicToolChoice {
  readonly type: string;
  readonly name?: string;
  readonly disable_parallel_tool_use?: boolean;
}

/** The prompt part of a request: a validated `POST /v1/messages/count_tokens` body. */
export interface CountTokensRequest {
  readonly model: string;
  readonly messages: readonly AnthropicMessageParam[];
  readonly system?: string | readonly AnthropicBlock[] | null;
  readonly tools?: readonly AnthropicTool[] | null;
  readonly tool_choice?: AnthropicToolChoice | null;
  readonly [extra: string]: unknown;
}

/** A validated `POST /v1/messages` body (see `messages-request-schema.ts`). */
export interface MessagesRequest extends CountTokensRequest {
  readonly max_tokens: number;
  readonly stop_sequences?: readonly string[] | null;
  readonly stream?: boolean | null;
  readonly temperature?: number | null;
  readonly top_p?: number | null;
  readonly top_k?: number | null;
}

export type StopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

/** Usage with all four keys, as Anthropic's clients expect them (0 rather than absent). */
export interface AnthropicUsage {
  /** Prompt tokens not read from a cache. */
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens: number;
  readonly cache_read_input_tokens: number;
}

export type ContentBlock =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'thinking'; readonly thinking: string; readonly signature: string }
  | {
      readonly type: 'tool_use';
      readonly id: string;
      readonly name: string;
      readonly input: unknown;
    };

/** A non-streaming response (`type: "message"`). */
export interface AnthropicMessage {
  readonly id: string;
  readonly type: 'message';
  readonly role: 'assistant';
  readonly model: string;
  readonly content: readonly ContentBlock[];
  readonly stop_reason: StopReason;
  readonly stop_sequence: string | null;
  readonly usage: AnthropicUsage;
}
