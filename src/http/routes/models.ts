import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ChatProvider } from '../../providers/provider.js';
import { callContext } from './call-context.js';
import { type ProviderRoutesOptions, unknownProvider } from './chat-completions.js';

/** `GET /v1/models` (default provider) and `GET /{provider}/v1/models`, in OpenAI's list format. */
export function modelRoutes(app: FastifyInstance, options: ProviderRoutesOptions): void {
  app.get('/v1/models', handlerFor(options.defaultProvider));
  for (const provider of options.providers.values()) {
    app.get(`/${provider.id}/v1/models`, handlerFor(provider));
  }
  app.get('/:provider/v1/models', unknownProvider(options.providers));
}

function handlerFor(provider: ChatProvider) {
  return async function listModels(request: FastifyRequest) {
    request.gateway.provider = provider.id;
    const data = await provider.listModels(callContext(request));
    return { object: 'list', data };
  };
}
