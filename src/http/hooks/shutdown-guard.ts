import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShuttingDownError } from '../../errors/gateway-error.js';

/**
 * While the app drains for shutdown, requests that still arrive on open keep-alive connections get
 * a 503 in our envelope (Fastify's own 503 body is not) with `Connection: close`, so clients move
 * to another instance; requests already in flight finish.
 */
export function shutdownGuard(app: FastifyInstance) {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  return function shutdownGuardHook(
    _request: FastifyRequest,
    reply: FastifyReply,
    done: (error?: Error) => void,
  ): void {
    if (!closing) {
      done();
      return;
    }
    reply.header('connection', 'close');
    done(new ShuttingDownError());
  };
}
