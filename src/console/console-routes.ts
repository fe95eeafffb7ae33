import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { adminKeyMatcher, CSRF_HEADER } from '../admin/admin-auth.js';
import { invalidParameter } from '../admin/admin-input.js';
import { ERROR_CODES } from '../errors/error-codes.js';
import { AuthenticationError, ForbiddenError, NotFoundError } from '../errors/gateway-error.js';
import { type ConsoleSession, type ConsoleSessions, SESSION_IDLE_MS } from './console-sessions.js';
import { isHttps, readSessionCookie, sessionCookie } from './session-cookie.js';
import type { StaticFile } from './static-files.js';

/**
 * The console's own policy, in place of the API's `default-src 'none'`: its scripts, styles and
 * calls come from this origin only, and no inline script or style element runs (Vite's build
 * writes none; uPlot and Preact set styles through the DOM, which CSP allows).
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** The paths the client-key hook lets through: the console authenticates on its own. */
export const CONSOLE_PATHS: ReadonlySet<string> = new Set([
  '/ui',
  '/ui/',
  '/ui/*',
  '/ui/api/session',
]);

/** What the console's plugin is built from. */
export interface ConsoleRoutesOptions {
  readonly adminApiKey: string;
  readonly sessions: ConsoleSessions;
  /** The built console; undefined when it was not built (`/ui/` then says so). */
  readonly files: ReadonlyMap<string, StaticFile> | undefined;
}

/** What `POST` and `GET /ui/api/session` answer. */
export interface SessionJson {
  /** Send it as `x-csrf-token` with every request that changes something. */
  readonly csrf_token: string;
  readonly expires_at: string;
}

function sessionJson(session: ConsoleSession): SessionJson {
  return { csrf_token: session.csrfToken, expires_at: new Date(session.expiresAt).toISOString() };
}

/**
 * A Fastify plugin: the console at `/ui/` (the built single-page app, from memory) and its login,
 * `/ui/api/session`: the admin key in, a session cookie out; the page then calls `/admin/v1` with
 * that cookie (see `admin-auth.ts`) and never holds the key.
 */
export async function consoleRoutes(
  app: FastifyInstance,
  options: ConsoleRoutesOptions,
): Promise<void> {
  const { sessions, files } = options;
  const isAdminKey = adminKeyMatcher(options.adminApiKey);

  const sendFile = (request: FastifyRequest, reply: FastifyReply, name: string) => {
    const file = files?.get(name);
    if (file === undefined) {
      throw new NotFoundError(
        files === undefined
          ? 'The console is not built: run `npm run build`, then restart the gateway.'
          : 'No such file in the console.',
        ERROR_CODES.ROUTE_NOT_FOUND.code,
        null,
      );
    }
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('etag', file.etag)
      .header('vary', 'accept-encoding')
      .header('content-type', file.contentType);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    const gzip =
      file.gzipped !== undefined && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? file.gzipped : file.body);
  };

  const currentSession = (request: FastifyRequest): ConsoleSession | undefined => {
    const cookie = readSessionCookie(request.headers.cookie);
    return cookie === undefined ? undefined : sessions.verify(cookie);
  };

  // Relative asset paths in index.html need the trailing slash.
  app.get('/ui', (_request, reply) => reply.redirect('/ui/', 308));
  app.get('/ui/', (request, reply) => sendFile(request, reply, 'index.html'));
  app.get<{ Params: { '*': string } }>('/ui/*', (request, reply) =>
    sendFile(request, reply, request.params['*']),
  );

  app.post('/ui/api/session', async (request, reply): Promise<SessionJson> => {
    const body = request.body as { key?: unknown } | null | undefined;
    const key = typeof body === 'object' && body !== null ? body.key : undefined;
    if (typeof key !== 'string' || key === '') {
      throw invalidParameter('key', "'key' is required: the admin API key.");
    }
    if (!isAdminKey(key)) throw new AuthenticationError('Invalid admin API key.');
    const { session, cookieValue } = sessions.issue();
    reply.header('set-cookie', sessionCookie(cookieValue, SESSION_IDLE_MS, isHttps(request)));
    return sessionJson(session);
  });

  app.get('/ui/api/session', async (request): Promise<SessionJson> => {
    const session = currentSession(request);
    if (session === undefined)
      throw new AuthenticationError('Not logged in, or the session ended.');
    return sessionJson(session);
  });

  app.delete('/ui/api/session', async (request, reply) => {
    const session = currentSession(request);
    if (session !== undefined) {
      const token = request.headers[CSRF_HEADER];
      if (!sessions.csrfMatches(session, typeof token === 'string' ? token : undefined)) {
        throw new ForbiddenError(
          `Logging out needs the session's ${CSRF_HEADER} header.`,
          ERROR_CODES.CSRF_TOKEN_INVALID.code,
        );
      }
      sessions.end(session);
    }
    reply.header('set-cookie', sessionCookie('', 0, isHttps(request)));
    return reply.code(204).send();
  });
}
