/**
 * Ollama's native wire format (`POST /api/chat`, `GET /api/tags`), as documented in
 * https://github.com/ollama/ollama/blob/main/docs/api.md and `api/types.go`. Only the fields the
 * gateway reads or writes are modelled. Plus runtime guards for the JSON we get back, which is
 * untrusted until checked.
 */

/** A role as Ollama spells it; `developer` does not exist there. */
export type OllamaRole = 'system' | 'user' | 'assistant' | 'tool';

/**
 * One tool call. Unlike OpenAI, `arguments` is a JSON object, not a string, and there is no id.
 * `index` is optional and omitted when 0 (`omitempty` in Go), so the gateway does not rely on it.
 */
export interface OllamaToolCall {
  readonly function: {
    readonly name: string;
    readonly arguments: Readonly<Record<string, unknown>>;
    readonly index?: number;
  };
}

/** A message in a `/api/chat` request. */
export interface OllamaMessage {
  readonly role: OllamaRole;
  readonly content: string;
  /** Raw base64 image data, without a `data:` prefix. */
  readonly images?: readonly string[];
  readonly tool_calls?: readonly OllamaToolCall[];
  /** On `tool` messages: the name of the function whose result this is. */
  readonly tool_name?: string;
  /** On `assistant` messages: the model's earlier reasoning. */
  readonly thinking?: string;
}

/** A tool offered to the model; the same shape as OpenAI's function tool. */
export interface OllamaTool {
  readonly type: 'function';
  readonly function: {
    readonly name: string;
    readonly description?: string;
    readonly parameters?: Readonly<Record<string, unknown>>;
  };
}

/** Sampling options (`options` object); Ollama's names, a subset of what it accepts. */
export interface OllamaOptions {
  readonly num_predict?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly seed?: number;
  readonly stop?: readonly string[];
  readonly frequency_penalty?: number;
  readonly presence_penalty?: number;
}

/**
 * `think`: `true`/`false` switches thinking on or off for thinking models; some models (gpt-oss)
 * take a level instead of a boolean (docs/api.md, "think").
 */
export type OllamaThink = boolean | 'low' | 'medium' | 'high';

/** The body of `POST /api/chat`. */
export interface OllamaChatRequest {
  readonly model: string;
  readonly messages: readonly OllamaMessage[];
  readonly tools?: readonly OllamaTool[];
  /** `'json'` for any JSON, or a JSON schema object for structured output. */
  readonly format?: 'json' | Readonly<Record<string, unknown>>;
  readonly options?: OllamaOptions;
  /** Always sent: Ollama streams when it is absent. */
  readonly stream: boolean;
  readonly think?: OllamaThink;
  /** A duration such as `'5m'`, or seconds; `0` unloads the model right after the call. */
  readonly keep_alive?: string | number;
}

/** The assistant message in a `/api/chat` response or stream line. */
export interface OllamaResponseMessage {
  readonly role: string;
  readonly content: string;
  readonly thinking?: string;
  readonly tool_calls?: readonly OllamaToolCall[];
}

/**
 * A `/api/chat` response (`stream: false`) or one NDJSON line of a stream. Only the last line has
 * `done: true`, `done_reason` and the counts; counts are omitted when zero (e.g. a fully cached
 * prompt has no `prompt_eval_count`). Durations are nanoseconds.
 */
export interface OllamaChatResponse {
  readonly model: string;
  /** RFC 3339 with nanoseconds, e.g. `2025-06-01T10:00:00.123456789Z`. */
  readonly created_at: string;
  readonly message: OllamaResponseMessage;
  readonly done: boolean;
  /** `stop`, `length`, `load`, `unload`, … */
  readonly done_reason?: string;
  readonly prompt_eval_count?: number;
  readonly eval_count?: number;
  readonly total_duration?: number;
  readonly load_duration?: number;
  readonly prompt_eval_duration?: number;
  readonly eval_duration?: number;
}

/** An error body, or an error line in the middle of a stream. */
export interface OllamaErrorLine {
  readonly error: string;
}

/** One model of `GET /api/tags`. */
export interface OllamaTagModel {
  readonly name: string;
  readonly model?: string;
  /** RFC 3339, often with a local offset, e.g. `2025-05-10T13:22:01.1+02:00`. */
  readonly modified_at: string;
  readonly size?: number;
  readonly digest?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The body of `GET /api/tags`. */
export interface OllamaTagsResponse {
  readonly models: readonly OllamaTagModel[];
}

/** True for `{"error": "…"}`: an Ollama error body or mid-stream error line. */
export function isOllamaErrorLine(value: unknown): value is OllamaErrorLine {
  return isRecord(value) && typeof value.error === 'string';
}

/** True when `value` has the shape of a `/api/chat` response or stream line. */
export function isOllamaChatResponse(value: unknown): value is OllamaChatResponse {
  return (
    isRecord(value) &&
    typeof value.model === 'string' &&
    typeof value.created_at === 'string' &&
    typeof value.done === 'boolean' &&
    isOptional(value.done_reason, isString) &&
    isOptional(value.prompt_eval_count, isCount) &&
    isOptional(value.eval_count, isCount) &&
    isResponseMessage(value.message)
  );
}

/** True when `value` has the shape of a `GET /api/tags` response. */
export function isOllamaTagsResponse(value: unknown): value is OllamaTagsResponse {
  return (
    isRecord(value) &&
    Array.isArray(value.models) &&
    value.models.every(
      (model: unknown) =>
        isRecord(model) && typeof model.name === 'string' && typeof model.modified_at === 'string',
    )
  );
}

function isResponseMessage(value: unknown): value is OllamaResponseMessage {
  return (
    isRecord(value) &&
    typeof value.role === 'string' &&
    typeof value.content === 'string' &&
    isOptional(value.thinking, isString) &&
    isOptional(value.tool_calls, isToolCallList)
  );
}

function isToolCallList(value: unknown): value is readonly OllamaToolCall[] {
  return (
    Array.isArray(value) &&
    value.every(
      (call: unknown) =>
        isRecord(call) &&
        isRecord(call.function) &&
        typeof call.function.name === 'string' &&
        isRecord(call.function.arguments),
    )
  );
}

/** A plain JSON object: not null, not an array. */
function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Ollama omits empty optional fields (Go's `omitempty`); it never writes `null` for them. */
function isOptional(value: unknown, guard: (value: unknown) => boolean): boolean {
  return value === undefined || guard(value);
}
