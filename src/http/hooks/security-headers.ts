import type { FastifyReply, FastifyRequest } from 'fastify';

/** Headers for every response; streams override Cache-Control (see sse.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
});

/** onRequest hook: set before any handler runs so errors and streams carry them too. */
export function securityHeaders() {
  return function securityHeadersHook(
    _request: FastifyRequest,
    reply: FastifyReply,
    done: () => void,
  ): void {
    reply.headers(SECURITY_HEADERS);
    done();
  };
}
