import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  ModelInfo,
  Usage,
} from '../openai/chat-types.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../openai/embeddings-types.js';
import type { CallSignal } from './call-signal.js';
import type { UpstreamClient } from './shared/upstream-client.js';

/** The slice of a pino logger providers use (pino's and Fastify's loggers both fit). */
export interface ProviderLogger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** What one call knows about the request it serves. */
export interface CallContext {
  /** Aborted when the client disconnects; passed to the upstream call. */
  readonly signal: CallSignal;
  /** Forwarded upstream as `x-request-id`. */
  readonly requestId: string;
  /** Child logger bound to the request id. */
  readonly logger: ProviderLogger;
}

/** One chunk of a stream, with the upstream's own text of it when it is relayed unchanged. */
export interface StreamChunk {
  readonly chunk: ChatCompletionChunk;
  /**
   * `chunk` as the upstream sent it, on one line: the SSE writer sends this text rather than
   * serialising the object again. Undefined for a chunk built or changed here.
   */
  readonly json: string | undefined;
}

/**
 * A stream of chunks, in batches: the chunks that came in one upstream read are yielded as one
 * non-empty array, so a consumer takes one async step per read rather than one per chunk.
 * Providers yield OpenAI chunks in order and, when the upstream reports token counts, exactly one
 * final usage chunk (`choices: []`, `usage` set) whether or not the client asked for it: the HTTP
 * layer decides whether to send it (`stream_options.include_usage`) and logs it. A failure after
 * the stream began is thrown by the iterator as a GatewayError, after the batch of the chunks
 * before it; a stream that ends without the upstream's end marker throws too (it is truncated,
 * not finished).
 */
export type ChatStream = AsyncIterable<readonly StreamChunk[]>;

/** THE provider interface. Every method throws GatewayError only. */
export interface ChatProvider {
  /** 'cerebras', 'ollama', … as in config, routes and logs. */
  readonly id: string;
  listModels(ctx: CallContext): Promise<readonly ModelInfo[]>;
  chat(request: ChatRequest, ctx: CallContext): Promise<ChatCompletion>;
  /** Resolves once the upstream answered with a success status; fails before that otherwise. */
  chatStream(request: ChatRequest, ctx: CallContext): Promise<ChatStream>;
  /** `POST /v1/embeddings`; `encoding_format` is honoured (float or base64). */
  embeddings?(request: EmbeddingsRequest, ctx: CallContext): Promise<EmbeddingsResponse>;
  /**
   * The vendor's own API relayed (Ollama's `/api/*`), for its native clients. Only providers
   * with a native API of their own have it. Resolves with the upstream's response, whatever its
   * status (error bodies scrubbed); fails when it could not answer or rejected our credentials.
   */
  passthrough?(request: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse>;
}

/** The upstream's answer to a passthrough request: a stream when it succeeded, text otherwise. */
export interface PassthroughResponse {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The body as it comes (2xx), or an error body already scrubbed of the provider's secrets. */
  readonly body: NodeJS.ReadableStream | string;
}

/** One request of a vendor's native API, relayed by {@link ChatProvider.passthrough}. */
export interface PassthroughRequest {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  /** From the API root, e.g. `/api/tags`; the query string included. */
  readonly path: string;
  /** JSON text. */
  readonly body?: string;
  /** Told the reply's token counts once it has been relayed whole (for billing). */
  readonly onUsage?: (usage: Usage) => void;
}

/** Collaborators a provider gets injected, so tests can replace the clock, ids and HTTP client. */
export interface ProviderDeps {
  readonly upstream: UpstreamClient;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** A unique suffix for `chatcmpl-…` / `call_…` ids. */
  readonly generateId: () => string;
}

/** Builds a provider from its settings: every vendor descriptor's `create` (vendor.ts). */
export type ProviderFactory<Settings> = (settings: Settings, deps: ProviderDeps) => ChatProvider;
