import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError } from '../../errors/gateway-error.js';
import type { Principal } from './request-context.js';

export interface ApiKeyAuthOptions {
  /** Allowed client keys. Empty with `disabled: false` means every request is refused. */
  readonly apiKeys: readonly string[];
  /** Development mode: no auth at all. */
  readonly disabled?: boolean;
  /** Routes that need no key (health checks). */
  readonly publicPaths: ReadonlySet<string>;
}

interface StoredKey {
  readonly digest: Buffer;
  readonly principal: Principal;
}

/** One-shot: no Hash object per request (~0.3 µs less than createHash for a short key). */
function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * Resolves the caller's principal from `Authorization: Bearer <key>` or `x-api-key`. Keys are
 * compared as SHA-256 digests with timingSafeEqual against every stored key, with no early exit,
 * so neither the key's length nor which key matched shows in the timing. Query strings are never
 * read.
 */
export function resolvePrincipal(
  headers: FastifyRequest['headers'],
  keys: readonly StoredKey[],
): Principal | undefined {
  const presented = presentedKey(headers);
  if (presented === undefined) return undefined;
  const digest = sha256(presented);
  let match: Principal | undefined;
  for (const key of keys) {
    if (timingSafeEqual(digest, key.digest) && match === undefined) match = key.principal;
  }
  return match;
}

function presentedKey(headers: FastifyRequest['headers']): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    return match?.[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey !== '' ? apiKey : undefined;
}

/** onRequest hook: every route except the public ones needs a valid key. */
export function apiKeyAuth(options: ApiKeyAuthOptions) {
  const keys: StoredKey[] = options.apiKeys.map((key) => {
    const digest = sha256(key);
    // A short digest prefix names the key in logs without revealing it.
    return { digest, principal: { keyId: `key_${digest.toString('hex').slice(0, 12)}` } };
  });
  const anonymous: Principal = { keyId: 'anonymous' };

  return function apiKeyAuthHook(
    request: FastifyRequest,
    _reply: FastifyReply,
    done: (error?: Error) => void,
  ): void {
    if (options.disabled === true) {
      request.gateway.principal = anonymous;
      done();
      return;
    }
    if (options.publicPaths.has(request.gateway.route)) {
      done();
      return;
    }
    const principal = resolvePrincipal(request.headers, keys);
    if (principal === undefined) {
      done(new AuthenticationError());
      return;
    }
    request.gateway.principal = principal;
    done();
  };
}
