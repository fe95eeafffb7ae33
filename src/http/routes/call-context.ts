import type { FastifyRequest } from 'fastify';
import type { CallContext } from '../../providers/provider.js';

/** The provider's view of a request; its signal fires when the client disconnects. */
export function callContext(request: FastifyRequest): CallContext {
  const controller = new AbortController();
  request.gateway.abortController = controller;
  return { signal: controller.signal, requestId: request.id, logger: request.log };
}
