import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../errors/gateway-error.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * onRequest hook of the admin API: `Authorization: Bearer <admin key>` and nothing else; no
 * `x-api-key`, no client key (the global client-key hook skips `/admin/`, so this is the only
 * check). The digests are compared, not the keys, so that neither the length of the presented
 * key nor where it differs shows in the timing.
 */
export function adminAuth(adminApiKey: string) {
  const expected = sha256(adminApiKey);
  return function adminAuthHook(
    request: FastifyRequest,
    _reply: FastifyReply,
    done: (error?: Error) => void,
  ): void {
    const presented = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (presented === undefined || !timingSafeEqual(sha256(presented), expected)) {
      done(new AuthenticationError('Invalid or missing admin API key.'));
      return;
    }
    done();
  };
}
