import type { FastifyRequest } from 'fastify';
import { CallAbort } from '../../providers/call-signal.js';
import type { CallContext } from '../../providers/provider.js';

/** The provider's view of a request; its signal fires when the client disconnects. */
export function callContext(request: FastifyRequest): CallContext {
  const abort = new CallAbort();
  request.gateway.abort = abort;
  return { signal: abort, requestId: request.id, logger: request.log };
}
