import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSessions } from '../console/console-sessions.js';
import { isHttps, readSessionCookie, sessionCookie } from '../console/session-cookie.js';
import { ERROR_CODES } from '../errors/error-codes.js';
import { AuthenticationError, ForbiddenError } from '../errors/gateway-error.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Methods that change nothing: the only ones a session cookie is taken for without a token. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The header a console request that changes something carries its session's CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

/** Whether `presented` is the admin key; digests are compared, so no length or prefix leaks. */
export function adminKeyMatcher(adminApiKey: string): (presented: string) => boolean {
  const expected = sha256(adminApiKey);
  return (presented) => timingSafeEqual(sha256(presented), expected);
}

/** The credentials the admin API takes. */
export interface AdminAuthOptions {
  readonly adminApiKey: string;
  /** The console's sessions; absent, only the Bearer key is taken. */
  readonly sessions?: ConsoleSessions | undefined;
}

/**
 * onRequest hook of the admin API. `Authorization: Bearer <admin key>`, or the console's session
 * cookie; no `x-api-key`, no client key (the global client-key hook skips `/admin/`, so this is
 * the only check). A request that presents an Authorization header is judged by it alone. A
 * cookie request that changes something must also carry the session's token in `x-csrf-token`:
 * the cookie is SameSite=Strict already, and the token holds even where a browser or a proxy
 * gets that wrong. A Bearer request needs none (no browser adds it on its own). A session in use
 * is renewed through its cookie.
 */
export function adminAuth(options: AdminAuthOptions) {
  const isAdminKey = adminKeyMatcher(options.adminApiKey);
  const { sessions } = options;
  return function adminAuthHook(
    request: FastifyRequest,
    reply: FastifyReply,
    done: (error?: Error) => void,
  ): void {
    const authorization = request.headers.authorization;
    if (authorization !== undefined || sessions === undefined) {
      const presented = BEARER.exec(authorization ?? '')?.[1];
      done(
        presented !== undefined && isAdminKey(presented)
          ? undefined
          : new AuthenticationError('Invalid or missing admin API key.'),
      );
      return;
    }
    const cookie = readSessionCookie(request.headers.cookie);
    const session = cookie === undefined ? undefined : sessions.verify(cookie);
    if (session === undefined) {
      done(new AuthenticationError('Invalid or missing admin API key, or the session ended.'));
      return;
    }
    const token = request.headers[CSRF_HEADER];
    if (
      !SAFE_METHODS.has(request.method) &&
      !sessions.csrfMatches(session, typeof token === 'string' ? token : undefined)
    ) {
      done(
        new ForbiddenError(
          `A request with the console's session cookie that changes something needs the session's ${CSRF_HEADER} header.`,
          ERROR_CODES.CSRF_TOKEN_INVALID.code,
        ),
      );
      return;
    }
    const renewal = sessions.renewal(session);
    if (renewal !== undefined) {
      reply.header(
        'set-cookie',
        sessionCookie(renewal.cookieValue, renewal.maxAgeMs, isHttps(request)),
      );
    }
    done();
  };
}
