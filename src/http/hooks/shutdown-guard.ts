import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShuttingDownError } from '../../errors/gateway-error.js';

/** How often idle keep-alive connections are closed while draining. */
const IDLE_SWEEP_MS = 100;

/**
 * Graceful drain. While the app closes: requests that still arrive on open keep-alive connections
 * get a 503 in our envelope (Fastify's own 503 body is not) with `Connection: close`; requests in
 * flight finish; and connections that turn idle after their last response are closed at once, so
 * clients that keep sockets open (every SDK) cannot hold the shutdown until their keep-alive ends.
 * Connections that never sent a request are closed once nothing is in flight.
 */
export function shutdownGuard(app: FastifyInstance) {
  let closing = false;
  let inFlight = 0;
  let sweep: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    closing = true;
    sweep = setInterval(() => {
      // Node counts a connection that has not sent a request yet as busy (it may still send
      // one), so closeIdleConnections leaves it open until its headers timeout. Once no request
      // is in flight, every connection left is of that kind or idle: close them all.
      if (inFlight === 0) app.server.closeAllConnections();
      else app.server.closeIdleConnections();
    }, IDLE_SWEEP_MS);
    sweep.unref();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearInterval(sweep);
    done();
  });
  return function shutdownGuardHook(
    _request: FastifyRequest,
    reply: FastifyReply,
    done: (error?: Error) => void,
  ): void {
    inFlight += 1;
    reply.raw.once('close', () => {
      inFlight -= 1;
    });
    if (!closing) {
      done();
      return;
    }
    reply.header('connection', 'close');
    done(new ShuttingDownError());
  };
}
