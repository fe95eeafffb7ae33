import { UpstreamError } from '../../errors/gateway-error.js';
import { scrubSecrets } from '../../errors/scrub-secrets.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ModelInfo,
  Usage,
} from '../../openai/chat-types.js';
import type { EmbeddingsResponse } from '../../openai/embeddings-types.js';
import { tagRawJson } from '../../openai/raw-json.js';
import type { CallSignal } from '../call-signal.js';
import type { ChatProvider, ChatStream, ProviderDeps, StreamChunk } from '../provider.js';
import { parseSse } from '../shared/sse-parser.js';
import { discardBody, toUpstreamError, type UpstreamResponse } from '../shared/upstream-client.js';
import { callJson, openStream } from '../shared/upstream-json.js';
import type { VendorProviderSettings } from '../vendor.js';

export interface OpenAiCompatibleSettings extends VendorProviderSettings {
  /** Vendor quirks: reshapes the body sent upstream (drops unsupported fields, renames). */
  readonly prepareRequest?: (body: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * A generic adapter for any OpenAI-compatible chat API: the request is relayed (after the vendor's
 * quirks), the response returned as the upstream sent it, vendor extras included.
 */
export function createOpenAiCompatibleProvider(
  settings: OpenAiCompatibleSettings,
  deps: ProviderDeps,
): ChatProvider {
  const { name: id, secrets } = settings;
  const upstream = deps.upstream;
  const prepare = settings.prepareRequest ?? ((body: Record<string, unknown>) => body);

  const target = { upstream, provider: id, secrets };

  return {
    id,

    async listModels(ctx) {
      const { body } = await callJson(target, ctx, { path: '/models' });
      const data = (body as { data?: unknown } | null)?.data;
      if (!Array.isArray(data)) throw invalidBody(id);
      return data.filter(isModelInfo).map(
        (model): ModelInfo => ({
          id: model.id,
          object: 'model',
          created: typeof model.created === 'number' ? model.created : 0,
          owned_by: typeof model.owned_by === 'string' ? model.owned_by : id,
        }),
      );
    },

    async chat(request, ctx) {
      const { stream_options: _ignored, ...rest } = request;
      const payload = prepare({ ...rest, stream: false });
      const { body, text } = await callJson(target, ctx, {
        path: '/chat/completions',
        body: JSON.stringify(payload),
        model: request.model,
      });
      if (!isCompletion(body)) throw invalidBody(id);
      // Relayed unchanged: the route may send the upstream's own bytes.
      return tagRawJson(body, text);
    },

    async embeddings(request, ctx) {
      const { body, text } = await callJson(target, ctx, {
        path: '/embeddings',
        body: JSON.stringify(request),
        model: request.model,
      });
      if (!isEmbeddingsResponse(body)) throw invalidBody(id);
      return tagRawJson(body, text);
    },

    async chatStream(request, ctx) {
      // Always ask for usage so it can be logged; the HTTP layer drops it unless the client asked.
      const body = { ...request, stream: true, stream_options: { include_usage: true } };
      const response = await openStream(target, ctx, {
        path: '/chat/completions',
        body: JSON.stringify(prepare(body)),
        model: request.model,
      });
      return relayChunks(response, id, secrets, ctx.signal);
    },
  };
}

/**
 * Upstream SSE → chunks, one batch per upstream read. Usage is normalised to one trailing
 * `choices: []` chunk whether the vendor sends it separately (OpenAI) or attached to the last
 * content chunk (some compatibles). A stream without `[DONE]` is truncated and fails; an in-stream
 * `{"error":…}` or a broken event fails after the chunks of the same read before it.
 */
async function* relayChunks(
  response: UpstreamResponse,
  provider: string,
  secrets: readonly string[],
  signal: CallSignal,
): ChatStream {
  let usageChunk: StreamChunk | undefined;
  let finished = false;
  try {
    for await (const events of parseSse(response.body)) {
      const batch: StreamChunk[] = [];
      for (const event of events) {
        // Read on to the end of the body after [DONE] so the pooled socket can be reused.
        if (finished) continue;
        if (event.data === '[DONE]') {
          finished = true;
          continue;
        }
        let chunk: ChatCompletionChunk;
        try {
          chunk = toChunk(event.data, provider, secrets);
        } catch (error) {
          if (batch.length > 0) yield batch;
          throw error;
        }
        // Unchanged chunks keep the upstream's own text, which the SSE writer sends as it came.
        const json = asOneLine(event.data);
        if (chunk.usage == null) {
          batch.push({ chunk, json });
        } else if (chunk.choices.length === 0) {
          usageChunk = { chunk, json };
        } else {
          const { usage, ...withoutUsage } = chunk;
          batch.push({ chunk: withoutUsage as ChatCompletionChunk, json: undefined });
          usageChunk = {
            chunk: { ...withoutUsage, choices: [], usage: usage as Usage },
            json: undefined,
          };
        }
      }
      if (batch.length > 0) yield batch;
    }
  } catch (error) {
    if (!finished) throw toUpstreamError(provider, error, signal, 'body');
  } finally {
    // Stopping early (client gone, error) must release the upstream socket now.
    if (!finished) discardBody(response.body);
  }
  if (!finished) {
    throw new UpstreamError(`The ${provider} upstream stream ended before it was complete.`);
  }
  if (usageChunk !== undefined) yield [usageChunk];
}

/**
 * `data` itself when it can be sent as one SSE `data:` line as it is: an event that came over
 * several `data:` lines has line breaks, and its chunk is serialised again instead.
 */
function asOneLine(data: string): string | undefined {
  return data.indexOf('\n') === -1 && data.indexOf('\r') === -1 ? data : undefined;
}

/** One event's data as a chunk, or the upstream's failure (an error event, not a chunk). */
function toChunk(data: string, provider: string, secrets: readonly string[]): ChatCompletionChunk {
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    throw new UpstreamError(`The ${provider} upstream sent a stream event that is not JSON.`);
  }
  if (isErrorEvent(chunk)) {
    const message = scrubSecrets(chunk.error.message ?? '', secrets, 300);
    throw new UpstreamError(`The ${provider} upstream failed mid-stream: ${message}`);
  }
  if (!isChunk(chunk)) throw new UpstreamError(`The ${provider} upstream sent an invalid chunk.`);
  return chunk;
}

function invalidBody(provider: string): UpstreamError {
  return new UpstreamError(`The ${provider} upstream returned an unexpected response body.`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCompletion(value: unknown): value is ChatCompletion {
  return isObject(value) && Array.isArray(value.choices) && typeof value.id === 'string';
}

function isEmbeddingsResponse(value: unknown): value is EmbeddingsResponse {
  return isObject(value) && Array.isArray(value.data);
}

function isChunk(value: unknown): value is ChatCompletionChunk {
  return isObject(value) && Array.isArray(value.choices);
}

function isErrorEvent(value: unknown): value is { error: { message?: string } } {
  return isObject(value) && isObject(value.error);
}

function isModelInfo(
  value: unknown,
): value is { id: string; created?: unknown; owned_by?: unknown } {
  return isObject(value) && typeof value.id === 'string';
}
