import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../../errors/error-codes.js';
import {
  ForbiddenError,
  type GatewayError,
  InvalidRequestError,
  NotFoundError,
} from '../../errors/gateway-error.js';
import type { Usage } from '../../openai/chat-types.js';
import type { ChatProvider, PassthroughRequest } from '../../providers/provider.js';
import { useErrorBody } from '../error-handler.js';
import type { AdmissionHookFactory, AdmissionKind } from '../hooks/tenancy-admission.js';
import { callContext } from './call-context.js';

export interface OllamaPassthroughOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  /** OLLAMA_ALLOW_MANAGEMENT: pull, push, create, copy, delete and blobs. */
  readonly allowManagement: boolean;
  /** Admits virtual keys on the endpoints that run a model; absent without tenancy. */
  readonly admission?: AdmissionHookFactory | undefined;
}

/** The endpoints that run a model: in the usage ledger, and admitted against a key's limits. */
const INFERENCE_ENDPOINTS: ReadonlyMap<string, AdmissionKind> = new Map([
  ['POST /api/chat', 'generate'],
  ['POST /api/generate', 'generate'],
  ['POST /api/embed', 'embed'],
  ['POST /api/embeddings', 'embed'],
]);

/** What Ollama's own clients use to run models: relayed for anyone with a key. */
const USE_ENDPOINTS = new Set([
  'GET /api/tags',
  'GET /api/ps',
  'GET /api/version',
  'POST /api/chat',
  'POST /api/generate',
  'POST /api/embed',
  'POST /api/embeddings',
  'POST /api/show',
]);

/** What changes the models on the host: relayed only with OLLAMA_ALLOW_MANAGEMENT=true. */
const MANAGEMENT_ENDPOINTS = new Set([
  'POST /api/pull',
  'POST /api/push',
  'POST /api/create',
  'POST /api/copy',
  'DELETE /api/delete',
]);

/** `/api/blobs/{digest}`: HEAD and POST, which Ollama counts as model management. */
const BLOB_PATH = /^\/api\/blobs\/([^/]+)$/;

/**
 * How Ollama names a blob (`GetBlobsPath` in its server refuses anything else). The path is
 * relayed as decoded, so only such a name goes: a space or `%` in it would make the upstream
 * request fail, a client's mistake answered as the upstream's 502.
 */
const BLOB_DIGEST = /^sha256[:-][0-9a-fA-F]{64}$/;

type Method = PassthroughRequest['method'];

/** Ollama's own error body, `{"error": "…"}`, which its clients (the `ollama` package, its CLI) parse. */
function ollamaErrorBody(error: GatewayError): { readonly error: string } {
  return { error: error.message };
}

/**
 * A Fastify plugin: `/{provider}/api/*` for every provider with a native API (Ollama), relayed to
 * it with the gateway's auth, request id, access log, timeouts and cancellation; NDJSON streams
 * flow through as they come. The upstream's answer is relayed as it is, and the gateway's own
 * failures (auth, refused management, unreachable upstream) are written in Ollama's
 * `{"error": "…"}` shape too, since that is what Ollama's clients parse; the status and headers
 * are as everywhere else.
 */
export async function ollamaPassthroughRoutes(
  app: FastifyInstance,
  options: OllamaPassthroughOptions,
): Promise<void> {
  useErrorBody(app, ollamaErrorBody);
  for (const provider of options.providers.values()) {
    if (provider.passthrough === undefined) continue;
    const admit = new Map(
      options.admission === undefined
        ? []
        : [...INFERENCE_ENDPOINTS].map(([endpoint, kind]) => [
            endpoint,
            options.admission?.(provider.id, kind),
          ]),
    );
    app.route({
      method: ['GET', 'POST', 'DELETE', 'HEAD'],
      url: `/${provider.id}/api/*`,
      // HEAD is answered by this handler, not by Fastify's automatic GET-as-HEAD route.
      exposeHeadRoute: false,
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const method = request.method as Method;
        const { '*': rest = '' } = request.params as { '*'?: string };
        const path = `/api/${rest}`;
        const endpoint = `${method} ${path}`;
        const blob = BLOB_PATH.exec(path);
        if (MANAGEMENT_ENDPOINTS.has(endpoint) || blob !== null) {
          if (!options.allowManagement) {
            throw new ForbiddenError(
              `Model management (${path}) is disabled on this gateway (OLLAMA_ALLOW_MANAGEMENT).`,
              ERROR_CODES.MANAGEMENT_DISABLED.code,
            );
          }
          if (blob !== null && !BLOB_DIGEST.test(blob[1] ?? '')) {
            throw new InvalidRequestError(
              'A blob is named by its digest: sha256: (or sha256-) and 64 hexadecimal digits.',
              ERROR_CODES.INVALID_BLOB_DIGEST.code,
            );
          }
        } else if (!USE_ENDPOINTS.has(endpoint)) {
          throw new NotFoundError('Unknown route.', ERROR_CODES.ROUTE_NOT_FOUND.code, null);
        }
        const context = request.gateway;
        context.provider = provider.id;
        const body = request.body as { model?: unknown } | undefined;
        if (typeof body?.model === 'string') context.model = body.model;
        if (INFERENCE_ENDPOINTS.has(endpoint)) context.billable = true;
        await admit.get(endpoint)?.(request, reply);
        // The query string is not relayed: Ollama's API takes none, and a client may have put a
        // key there (which the gateway itself never accepts).
        const onUsage = context.billable
          ? (usage: Usage) => {
              context.usage = usage;
            }
          : undefined;
        const upstream = await provider.passthrough?.(
          {
            method,
            path,
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            ...(onUsage === undefined ? {} : { onUsage }),
          },
          callContext(request),
        );
        if (upstream === undefined) {
          throw new NotFoundError('Unknown route.', ERROR_CODES.ROUTE_NOT_FOUND.code, null);
        }
        reply.code(upstream.status);
        if (upstream.contentType !== undefined) reply.type(upstream.contentType);
        return reply.send(upstream.body);
      },
    });
  }
}
