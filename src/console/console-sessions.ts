/**
 * The console's login sessions. A session is not stored: its cookie holds a random id and two
 * times, signed with a key derived from the admin key (HMAC-SHA256). So every worker of a cluster
 * and every instance behind a load balancer that shares the admin key accepts it, with no shared
 * state; and changing the admin key ends every session at once.
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The cookie's name. */
export const SESSION_COOKIE = 'aigw_console';

/** A session ends after this long without a request (renewed while in use). */
export const SESSION_IDLE_MS = 30 * 60_000;

/** …and this long after login, however busy: the admin key is then asked again. */
export const SESSION_MAX_AGE_MS = 12 * 60 * 60_000;

/** A verified session. */
export interface ConsoleSession {
  /** 128 random bits, base64url. */
  readonly id: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The header value every state-changing request of this session must carry. */
  readonly csrfToken: string;
}

/** The admin key sessions are signed with (a key derived from it), and the clock. */
export interface ConsoleSessionsOptions {
  readonly adminApiKey: string;
  readonly now: () => number;
}

/** Issues, verifies, renews and ends console sessions. */
export interface ConsoleSessions {
  /** A new session, as of now. */
  issue(): { readonly session: ConsoleSession; readonly cookieValue: string };
  /** The session of a cookie value, or undefined when forged, malformed, expired or logged out. */
  verify(cookieValue: string): ConsoleSession | undefined;
  /**
   * The cookie value that carries the session on for another idle period (same id, same token),
   * when more than half of the current one is spent; undefined otherwise or past the max age.
   */
  renewal(
    session: ConsoleSession,
  ): { readonly cookieValue: string; readonly maxAgeMs: number } | undefined;
  /** Logs the session out here, until it would have expired anyway. */
  end(session: ConsoleSession): void;
  /** Whether `presented` is the session's CSRF token (compared in constant time). */
  csrfMatches(session: ConsoleSession, presented: string | undefined): boolean;
}

const COOKIE_VALUE = /^v1\.([A-Za-z0-9_-]{22})\.(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/;

/** Creates the sessions of one process; see the module comment for what is shared. */
export function createConsoleSessions(options: ConsoleSessionsOptions): ConsoleSessions {
  const { now } = options;
  // Derived, not the admin key itself: a MAC never uses the secret that logs in.
  const signingKey = hash('sha256', `ai-gateway console session\0${options.adminApiKey}`, 'buffer');
  const mac = (text: string): string =>
    createHmac('sha256', signingKey).update(text).digest('base64url');
  /** Logged-out ids, until their expiry: a copied cookie is refused here after logout. */
  const ended = new Map<string, number>();

  const sign = (id: string, issuedAt: number, expiresAt: number): string => {
    const body = `v1.${id}.${issuedAt}.${expiresAt}`;
    return `${body}.${mac(body)}`;
  };
  const sessionOf = (id: string, issuedAt: number, expiresAt: number): ConsoleSession => ({
    id,
    issuedAt,
    expiresAt,
    csrfToken: mac(`csrf.${id}`),
  });
  const forget = (time: number): void => {
    for (const [id, expiresAt] of ended) if (expiresAt <= time) ended.delete(id);
  };

  return {
    issue() {
      const issuedAt = now();
      const id = randomBytes(16).toString('base64url');
      const expiresAt = issuedAt + SESSION_IDLE_MS;
      return {
        session: sessionOf(id, issuedAt, expiresAt),
        cookieValue: sign(id, issuedAt, expiresAt),
      };
    },

    verify(cookieValue) {
      const match = COOKIE_VALUE.exec(cookieValue);
      if (match === null) return undefined;
      const [, id = '', issued = '', expires = '', presentedMac = ''] = match;
      const expected = Buffer.from(mac(`v1.${id}.${issued}.${expires}`));
      if (!timingSafeEqual(Buffer.from(presentedMac), expected)) return undefined;
      const issuedAt = Number(issued);
      const expiresAt = Number(expires);
      const time = now();
      if (expiresAt <= time || time - issuedAt >= SESSION_MAX_AGE_MS || ended.has(id)) {
        return undefined;
      }
      return sessionOf(id, issuedAt, expiresAt);
    },

    renewal(session) {
      const time = now();
      if (session.expiresAt - time > SESSION_IDLE_MS / 2) return undefined;
      const expiresAt = Math.min(time + SESSION_IDLE_MS, session.issuedAt + SESSION_MAX_AGE_MS);
      if (expiresAt <= session.expiresAt) return undefined;
      return {
        cookieValue: sign(session.id, session.issuedAt, expiresAt),
        maxAgeMs: expiresAt - time,
      };
    },

    end(session) {
      forget(now());
      ended.set(session.id, session.issuedAt + SESSION_MAX_AGE_MS);
    },

    csrfMatches(session, presented) {
      if (presented === undefined) return false;
      // Digests, so that the comparison takes no length from the presented value.
      return timingSafeEqual(
        hash('sha256', presented, 'buffer'),
        hash('sha256', session.csrfToken, 'buffer'),
      );
    },
  };
}
