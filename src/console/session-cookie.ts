/**
 * The console's session cookie on the wire: read from a `Cookie` header, written as a
 * `Set-Cookie` value. By hand rather than with @fastify/cookie: one cookie, one name, no signing
 * (the value signs itself, see `console-sessions.ts`).
 */
import type { FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './console-sessions.js';

/** The session cookie's value in a `Cookie` header, or undefined. */
export function readSessionCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals > 0 && pair.slice(0, equals).trim() === SESSION_COOKIE) {
      return pair.slice(equals + 1).trim();
    }
  }
  return undefined;
}

/**
 * Whether the browser reached us over https: directly, or through a proxy that says so. The
 * header is taken on trust: a client that lies gets a Secure cookie its own http page never
 * sends back, which harms only that client.
 */
export function isHttps(request: FastifyRequest): boolean {
  if (request.protocol === 'https') return true;
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first?.toLowerCase() === 'https';
}

/**
 * The `Set-Cookie` value carrying a session: HttpOnly (no script reads it), SameSite=Strict (no
 * other site's page sends it), Path=/ (the console page and the admin API both get it), Secure
 * over https. An empty value with Max-Age=0 removes it.
 */
export function sessionCookie(value: string, maxAgeMs: number, secure: boolean): string {
  const maxAge = Math.max(0, Math.floor(maxAgeMs / 1000));
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
