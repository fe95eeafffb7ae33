import { pipeline } from 'node:stream';
import { UpstreamCredentialsError, UpstreamError } from '../../errors/gateway-error.js';
import { scrubSecrets } from '../../errors/scrub-secrets.js';
import type { ChatCompletionChunk } from '../../openai/chat-types.js';
import type { CallSignal } from '../call-signal.js';
import type { ChatProvider, ChatStream, ProviderDeps, StreamChunk } from '../provider.js';
import { parseNdjson } from '../shared/ndjson-parser.js';
import {
  discardBody,
  ERROR_BODY_LIMIT,
  toUpstreamError,
  type UpstreamResponse,
} from '../shared/upstream-client.js';
import { callJson, openStream } from '../shared/upstream-json.js';
import { readText } from '../shared/upstream-status.js';
import type { VendorProviderSettings } from '../vendor.js';
import { fromOllamaChatResponse, fromOllamaTags } from './from-ollama-response.js';
import {
  fromOllamaEmbedResponse,
  isOllamaEmbedResponse,
  toOllamaEmbedRequest,
} from './ollama-embeddings.js';
import { ollamaChunks } from './ollama-stream.js';
import { ollamaUsageTap } from './ollama-usage-tap.js';
import { isOllamaChatResponse, isOllamaTagsResponse } from './ollama-wire.js';
import { toOllamaChatRequest } from './to-ollama-request.js';

/** Ollama through its native API (`/api/chat`, `/api/tags`, `/api/embed`), translated both ways. */
export function createOllamaProvider(
  settings: VendorProviderSettings,
  deps: ProviderDeps,
): ChatProvider {
  const { upstream, now, generateId } = deps;
  const { name: provider, secrets } = settings;

  const target = { upstream, provider, secrets };

  return {
    id: provider,

    async listModels(ctx) {
      const { body } = await callJson(target, ctx, { path: '/api/tags' });
      if (!isOllamaTagsResponse(body)) {
        throw new UpstreamError('The ollama upstream returned an unexpected model list.');
      }
      return fromOllamaTags(body);
    },

    async chat(request, ctx) {
      // Translate first: a request Ollama cannot honour fails with a 422 before any upstream call.
      const body = JSON.stringify(toOllamaChatRequest(request, false));
      const { body: parsed } = await callJson(target, ctx, {
        path: '/api/chat',
        body,
        model: request.model,
      });
      if (!isOllamaChatResponse(parsed)) {
        throw new UpstreamError('The ollama upstream returned an unexpected response body.');
      }
      return fromOllamaChatResponse(parsed, { id: `chatcmpl-${generateId()}`, generateId, now });
    },

    async passthrough(request, ctx) {
      const response = await upstream.request({
        method: request.method,
        path: request.path,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: ctx.signal,
        requestId: ctx.requestId,
      });
      const contentType = response.headers['content-type'];
      const type = typeof contentType === 'string' ? contentType : undefined;
      // Our own credentials refused: a gateway-side failure, never the client's 401.
      if (response.status === 401 || response.status === 403) {
        // Read off rather than destroyed: a destroyed undici body emits an error nobody handles.
        await response.body.dump().catch(() => undefined);
        throw new UpstreamCredentialsError(provider);
      }
      if (response.status < 400) {
        const { onUsage } = request;
        // pipeline, not pipe: a client that leaves destroys the tap, and with it the upstream body.
        const body =
          onUsage === undefined
            ? response.body
            : pipeline(response.body, ollamaUsageTap(onUsage), () => undefined);
        return { status: response.status, contentType: type, body };
      }
      // Error bodies are small: read, scrub of our secrets, relay in Ollama's own shape.
      const text = await readText(response, ERROR_BODY_LIMIT).catch(() => '');
      return {
        status: response.status,
        contentType: type,
        body: scrubSecrets(text, secrets, 4_000),
      };
    },

    async embeddings(request, ctx) {
      const body = JSON.stringify(toOllamaEmbedRequest(request));
      const { body: parsed } = await callJson(target, ctx, {
        path: '/api/embed',
        body,
        model: request.model,
      });
      if (!isOllamaEmbedResponse(parsed)) {
        throw new UpstreamError('The ollama upstream returned an unexpected embeddings body.');
      }
      const inputs = typeof request.input === 'string' ? 1 : request.input.length;
      return fromOllamaEmbedResponse(parsed, request.encoding_format ?? 'float', inputs);
    },

    async chatStream(request, ctx) {
      const body = JSON.stringify(toOllamaChatRequest(request, true));
      const response = await openStream(target, ctx, {
        path: '/api/chat',
        body,
        model: request.model,
      });
      return streamChunks(response, request.model, deps, ctx.signal, provider, secrets);
    },
  };
}

/** A chunk made here: the SSE writer serialises it. */
function built(chunk: ChatCompletionChunk): StreamChunk {
  return { chunk, json: undefined };
}

async function* streamChunks(
  response: UpstreamResponse,
  model: string,
  deps: ProviderDeps,
  signal: CallSignal,
  provider: string,
  secrets: readonly string[],
): ChatStream {
  let completed = false;
  try {
    const batches = ollamaChunks(parseNdjson(response.body, { provider }), {
      id: `chatcmpl-${deps.generateId()}`,
      model,
      generateId: deps.generateId,
      now: deps.now,
      secrets,
    });
    for await (const chunks of batches) yield chunks.map(built);
    completed = true;
  } catch (error) {
    throw toUpstreamError(provider, error, signal, 'body');
  } finally {
    // The consumer stopped early (client gone) or the stream failed: drop the upstream now.
    if (!completed) discardBody(response.body);
  }
}
