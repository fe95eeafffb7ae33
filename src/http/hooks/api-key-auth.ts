import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuthenticationError, type GatewayError } from '../../errors/gateway-error.js';
import type { KeyDirectory, Tenant } from '../../tenancy/key-directory.js';
import { looksLikeKeySecret } from '../../tenancy/key-secret.js';
import type { Principal } from '../../tenancy/principal.js';

export interface ApiKeyAuthOptions {
  /** Allowed client keys. Empty with `disabled: false` means every request is refused. */
  readonly apiKeys: readonly string[];
  /** Development mode: no auth at all. */
  readonly disabled?: boolean;
  /** Routes that need no key (health checks). */
  readonly publicPaths: ReadonlySet<string>;
  /** Virtual keys (tenancy); absent, only the static keys are known. */
  readonly directory?: KeyDirectory;
  readonly now?: () => number;
}

/** The admin API authenticates with its own key, in its own plugin. */
const ADMIN_PREFIX = '/admin/';

interface StoredKey {
  readonly digest: Buffer;
  readonly principal: Principal;
}

/** One-shot: no Hash object per request (docs/performance.md, "Measured choices in the code"). */
function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/**
 * The principal whose key this is. Keys are compared as SHA-256 digests with timingSafeEqual
 * against every stored key, with no early exit, so neither the key's length nor which key matched
 * shows in the timing.
 */
function matchKey(presented: string, keys: readonly StoredKey[]): Principal | undefined {
  const digest = sha256(presented);
  let match: Principal | undefined;
  for (const key of keys) {
    if (timingSafeEqual(digest, key.digest) && match === undefined) match = key.principal;
  }
  return match;
}

/** The key from `Authorization: Bearer <key>` or `x-api-key`; query strings are never read. */
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
  // Keys that matched, as presented: a client sends the same key on every request, and its digest
  // costs several times more at concurrency 1 than under load (OpenSSL's code and tables gone
  // cold between requests; docs/performance.md). At most one entry per configured key, since only
  // an exact key gets in. A wrong key never finds an entry and always takes the digest path; the lookup
  // compares a stored key's characters only after a full string-hash match, so its timing says
  // nothing about how close a wrong key is.
  const accepted = new Map<string, Principal>();
  const principalOf = (presented: string): Principal | undefined => {
    let principal = accepted.get(presented);
    if (principal === undefined) {
      principal = matchKey(presented, keys);
      if (principal !== undefined) accepted.set(presented, principal);
    }
    return principal;
  };

  const { directory } = options;
  const now = options.now ?? Date.now;

  const authenticateStatic = (
    request: FastifyRequest,
    presented: string,
    done: (error?: Error) => void,
  ): void => {
    const principal = principalOf(presented);
    if (principal === undefined) {
      done(new AuthenticationError());
      return;
    }
    request.gateway.principal = principal;
    done();
  };

  /** A virtual key found: its principal, or the 401 of a revoked or expired key. */
  const admitTenant = (request: FastifyRequest, tenant: Tenant): GatewayError | undefined => {
    // Set even when refused: a known key's refused requests are in its ledger too.
    request.gateway.principal = { keyId: tenant.key.id, tenant };
    if (tenant.key.revokedAt !== null) return new AuthenticationError('This API key was revoked.');
    if (tenant.key.expiresAt !== null && tenant.key.expiresAt <= now()) {
      return new AuthenticationError('This API key has expired.');
    }
    return undefined;
  };

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
    if (options.publicPaths.has(request.gateway.route) || request.url.startsWith(ADMIN_PREFIX)) {
      done();
      return;
    }
    const presented = presentedKey(request.headers);
    if (presented === undefined) {
      done(new AuthenticationError());
      return;
    }
    // A virtual key goes to the directory first: the static keys' digest comparison would only
    // cost it time. One that the directory does not know may still be a static key.
    if (directory === undefined || !looksLikeKeySecret(presented)) {
      authenticateStatic(request, presented, done);
      return;
    }
    let found: ReturnType<KeyDirectory['find']>;
    try {
      found = directory.find(presented);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (!(found instanceof Promise)) {
      if (found === undefined) authenticateStatic(request, presented, done);
      else done(admitTenant(request, found));
      return;
    }
    found.then(
      (tenant) => {
        if (tenant === undefined) authenticateStatic(request, presented, done);
        else done(admitTenant(request, tenant));
      },
      (error: Error) => done(error),
    );
  };
}
