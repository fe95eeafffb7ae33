/**
 * The OpenAI Responses API as this gateway accepts and answers it: the fields it reads from a
 * request and the shapes it writes back. Clients add fields often, so every request shape is open
 * (`[extra: string]: unknown`); what is not named here passes unread.
 */

/** A content part of an input message (`input_text`, `output_text`, `input_image`, …). */
export interface ResponsesContentPart {
  readonly type: string;
  readonly text?: string;
  readonly refusal?: string;
  readonly image_url?: string | null;
  readonly file_id?: string | null;
  readonly detail?: string;
  readonly [extra: string]: unknown;
}

/**
 * One item of `input`: a message (with or without `type: "message"`), a function or custom tool
 * call and its output, a reasoning item, or one of the types the gateway does not read.
 */
export interface ResponsesInputItem {
  readonly type?: string;
  readonly role?: string;
  readonly content?: string | readonly ResponsesContentPart[];
  readonly call_id?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly arguments?: string;
  readonly input?: string;
  readonly output?: string | readonly ResponsesContentPart[];
  readonly [extra: string]: unknown;
}

/** A tool of the request: `function`, `custom`, `namespace`, or a hosted one (dropped). */
export interface ResponsesTool {
  readonly type: string;
  readonly name?: string;
  readonly description?: string | null;
  readonly parameters?: Record<string, unknown> | null;
  readonly strict?: boolean | null;
  /** A custom tool's input format: `{ type: 'text' }` or `{ type: 'grammar', syntax, definition }`. */
  readonly format?: {
    readonly type?: string;
    readonly syntax?: string;
    readonly definition?: string;
  } | null;
  /** A namespace's functions. */
  readonly tools?: readonly ResponsesTool[];
  readonly [extra: string]: unknown;
}

/** `tool_choice`: a mode, or an object naming a tool (`function`, `custom`, `allowed_tools`, …). */
export type ResponsesToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | {
      readonly type: string;
      readonly name?: string;
      readonly mode?: string;
      readonly [extra: string]: unknown;
    };

/** `text.format`. */
export interface ResponsesTextFormat {
  readonly type: 'text' | 'json_object' | 'json_schema';
  readonly name?: string;
  readonly schema?: Record<string, unknown>;
  readonly strict?: boolean | null;
  readonly description?: string;
}

/** A validated `POST /v1/responses` body. */
export interface ResponsesRequest {
  readonly model: string;
  readonly input: string | readonly ResponsesInputItem[];
  readonly instructions?: string | readonly ResponsesInputItem[] | null;
  readonly stream?: boolean | null;
  readonly tools?: readonly ResponsesTool[] | null;
  readonly tool_choice?: ResponsesToolChoice | null;
  readonly parallel_tool_calls?: boolean | null;
  readonly max_output_tokens?: number | null;
  readonly temperature?: number | null;
  readonly top_p?: number | null;
  readonly text?: {
    readonly format?: ResponsesTextFormat | null;
    readonly verbosity?: string | null;
  } | null;
  readonly reasoning?: { readonly effort?: string | null; readonly summary?: string | null } | null;
  readonly previous_response_id?: string | null;
  readonly conversation?: unknown;
  readonly metadata?: Record<string, string> | null;
  readonly [extra: string]: unknown;
}

/** `output_text` or `refusal`, the parts of an output message. */
export type OutputContentPart =
  | {
      readonly type: 'output_text';
      readonly text: string;
      readonly annotations: readonly never[];
      readonly logprobs: readonly never[];
    }
  | { readonly type: 'refusal'; readonly refusal: string };

/** The status of an output item. */
export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

/** An assistant message of `output`. */
export interface OutputMessage {
  readonly type: 'message';
  readonly id: string;
  readonly status: ItemStatus;
  readonly role: 'assistant';
  readonly content: readonly OutputContentPart[];
}

/** A call to a function tool (`arguments` is JSON text). */
export interface OutputFunctionCall {
  readonly type: 'function_call';
  readonly id: string;
  readonly status: ItemStatus;
  readonly call_id: string;
  readonly name: string;
  readonly arguments: string;
  readonly namespace?: string;
}

/** A call to a custom tool, with its raw text input. */
export interface OutputCustomToolCall {
  readonly type: 'custom_tool_call';
  readonly id: string;
  readonly status: ItemStatus;
  readonly call_id: string;
  readonly name: string;
  readonly input: string;
  readonly namespace?: string;
}

/** The model's reasoning text (a thinking model's), as `reasoning_text` content. */
export interface OutputReasoning {
  readonly type: 'reasoning';
  readonly id: string;
  readonly status: ItemStatus;
  readonly summary: readonly never[];
  readonly content: readonly { readonly type: 'reasoning_text'; readonly text: string }[];
}

/** One item of a response's `output`. */
export type OutputItem =
  | OutputMessage
  | OutputFunctionCall
  | OutputCustomToolCall
  | OutputReasoning;

/** A response's `usage`, every detail present even when 0. */
export interface ResponsesUsage {
  readonly input_tokens: number;
  readonly input_tokens_details: { readonly cached_tokens: number };
  readonly output_tokens: number;
  readonly output_tokens_details: { readonly reasoning_tokens: number };
  readonly total_tokens: number;
}

/** `status` of a response. */
export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** Why a response is incomplete. */
export interface IncompleteDetails {
  readonly reason: 'max_output_tokens' | 'content_filter';
}
