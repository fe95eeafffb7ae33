import { UpstreamError } from '../../errors/gateway-error.js';
import type { CallContext, ChatProvider, ChatStream, ProviderDeps } from '../provider.js';
import { parseNdjson } from '../shared/ndjson-parser.js';
import { toUpstreamError, type UpstreamResponse } from '../shared/upstream-client.js';
import { readJson, upstreamStatusError } from '../shared/upstream-status.js';
import { fromOllamaChatResponse, fromOllamaTags } from './from-ollama-response.js';
import {
  fromOllamaEmbedResponse,
  isOllamaEmbedResponse,
  toOllamaEmbedRequest,
} from './ollama-embeddings.js';
import { ollamaChunks } from './ollama-stream.js';
import { isOllamaChatResponse, isOllamaTagsResponse } from './ollama-wire.js';
import { toOllamaChatRequest } from './to-ollama-request.js';

const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** What an Ollama provider needs beyond its upstream client (which holds URL and timeouts). */
export interface OllamaProviderSettings {
  /** Its name: the id in routes, logs and error messages. */
  readonly name: string;
}

/** Ollama through its native API (`/api/chat`, `/api/tags`, `/api/embed`), translated both ways. */
export function createOllamaProvider(
  settings: OllamaProviderSettings,
  deps: ProviderDeps,
): ChatProvider {
  const { upstream, now, generateId } = deps;
  const provider = settings.name;
  const context = { provider, secrets: [] };

  async function readBody(response: UpstreamResponse, ctx: CallContext): Promise<unknown> {
    try {
      return await readJson(response, provider, MAX_RESPONSE_BYTES);
    } catch (error) {
      throw toUpstreamError(provider, error, ctx.signal, 'body');
    }
  }

  async function postChat(body: string, model: string, ctx: CallContext) {
    const response = await upstream.request({
      method: 'POST',
      path: '/api/chat',
      body,
      signal: ctx.signal,
      requestId: ctx.requestId,
    });
    if (response.status !== 200) throw await upstreamStatusError(response, { ...context, model });
    return response;
  }

  return {
    id: provider,

    async listModels(ctx) {
      const response = await upstream.request({
        method: 'GET',
        path: '/api/tags',
        signal: ctx.signal,
        requestId: ctx.requestId,
      });
      if (response.status !== 200) throw await upstreamStatusError(response, context);
      const body = await readBody(response, ctx);
      if (!isOllamaTagsResponse(body)) {
        throw new UpstreamError('The ollama upstream returned an unexpected model list.');
      }
      return fromOllamaTags(body);
    },

    async chat(request, ctx) {
      // Translate first: a request Ollama cannot honour fails with a 422 before any upstream call.
      const body = JSON.stringify(toOllamaChatRequest(request, false));
      const response = await postChat(body, request.model, ctx);
      const parsed = await readBody(response, ctx);
      if (!isOllamaChatResponse(parsed)) {
        throw new UpstreamError('The ollama upstream returned an unexpected response body.');
      }
      return fromOllamaChatResponse(parsed, { id: `chatcmpl-${generateId()}`, generateId, now });
    },

    async passthrough(request, ctx) {
      return upstream.request({
        method: request.method,
        path: request.path,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: ctx.signal,
        requestId: ctx.requestId,
      });
    },

    async embeddings(request, ctx) {
      const body = JSON.stringify(toOllamaEmbedRequest(request));
      const response = await upstream.request({
        method: 'POST',
        path: '/api/embed',
        body,
        signal: ctx.signal,
        requestId: ctx.requestId,
      });
      if (response.status !== 200) {
        throw await upstreamStatusError(response, { ...context, model: request.model });
      }
      const parsed = await readBody(response, ctx);
      if (!isOllamaEmbedResponse(parsed)) {
        throw new UpstreamError('The ollama upstream returned an unexpected embeddings body.');
      }
      const inputs = typeof request.input === 'string' ? 1 : request.input.length;
      return fromOllamaEmbedResponse(parsed, request.encoding_format ?? 'float', inputs);
    },

    async chatStream(request, ctx) {
      const body = JSON.stringify(toOllamaChatRequest(request, true));
      const response = await postChat(body, request.model, ctx);
      return streamChunks(response, request.model, deps, ctx.signal, provider);
    },
  };
}

async function* streamChunks(
  response: UpstreamResponse,
  model: string,
  deps: ProviderDeps,
  signal: AbortSignal,
  provider: string,
): ChatStream {
  let completed = false;
  try {
    yield* ollamaChunks(parseNdjson(response.body, { provider }), {
      id: `chatcmpl-${deps.generateId()}`,
      model,
      generateId: deps.generateId,
      now: deps.now,
    });
    completed = true;
  } catch (error) {
    throw toUpstreamError(provider, error, signal, 'body');
  } finally {
    // The consumer stopped early (client gone) or the stream failed: drop the upstream now.
    if (!completed) response.body.destroy();
  }
}
