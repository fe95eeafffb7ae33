import { describe, expect, it } from 'vitest';
import { createConsoleSessions, SESSION_IDLE_MS, SESSION_MAX_AGE_MS } from './console-sessions.js';
import { readSessionCookie, sessionCookie } from './session-cookie.js';

function setup(adminApiKey = 'admin-key-0123456789') {
  let time = Date.UTC(2031, 0, 5);
  const sessions = createConsoleSessions({ adminApiKey, now: () => time });
  return {
    sessions,
    advance(ms: number) {
      time += ms;
    },
  };
}

describe('console sessions', () => {
  it('verifies what it issued, with the same CSRF token, and nothing else', () => {
    const { sessions } = setup();
    const { session, cookieValue } = sessions.issue();
    expect(sessions.verify(cookieValue)).toEqual(session);
    expect(sessions.issue().session.csrfToken).not.toBe(session.csrfToken);
    expect(setup('another-admin-key').sessions.verify(cookieValue)).toBeUndefined();
    for (const forged of ['', 'v1', `${cookieValue}x`, cookieValue.replace('v1.', 'v2.')]) {
      expect(sessions.verify(forged), forged).toBeUndefined();
    }
  });

  it('expires after the idle time unless renewed, and never past the max age', () => {
    const { sessions, advance } = setup();
    const { session, cookieValue } = sessions.issue();
    advance(SESSION_IDLE_MS / 4);
    expect(sessions.renewal(session)).toBeUndefined();
    advance(SESSION_IDLE_MS / 2);
    const renewal = sessions.renewal(session);
    expect(renewal?.maxAgeMs).toBe(SESSION_IDLE_MS);
    advance(SESSION_IDLE_MS / 2);
    expect(sessions.verify(cookieValue)).toBeUndefined();
    let current = sessions.verify(renewal?.cookieValue ?? '');
    expect(current?.csrfToken).toBe(session.csrfToken);
    // Kept in use, it still ends at the max age.
    let value = renewal?.cookieValue ?? '';
    let elapsed = SESSION_IDLE_MS * 1.25;
    while (current !== undefined) {
      const next = sessions.renewal(current);
      if (next !== undefined) value = next.cookieValue;
      advance(SESSION_IDLE_MS / 2 + 1);
      elapsed += SESSION_IDLE_MS / 2 + 1;
      current = sessions.verify(value);
    }
    expect(elapsed).toBeGreaterThanOrEqual(SESSION_MAX_AGE_MS);
    expect(elapsed).toBeLessThanOrEqual(SESSION_MAX_AGE_MS + SESSION_IDLE_MS);
  });

  it('ends a session here on logout', () => {
    const { sessions } = setup();
    const { session, cookieValue } = sessions.issue();
    sessions.end(session);
    expect(sessions.verify(cookieValue)).toBeUndefined();
  });

  it('matches the CSRF token exactly', () => {
    const { sessions } = setup();
    const { session } = sessions.issue();
    expect(sessions.csrfMatches(session, session.csrfToken)).toBe(true);
    for (const presented of [undefined, '', `${session.csrfToken}x`, session.csrfToken.slice(1)]) {
      expect(sessions.csrfMatches(session, presented)).toBe(false);
    }
  });
});

describe('the session cookie', () => {
  it('is read from among others, and written with its attributes', () => {
    expect(readSessionCookie('a=1; aigw_console=v1.x ; b=2')).toBe('v1.x');
    expect(readSessionCookie('aigw_console_other=1')).toBeUndefined();
    expect(readSessionCookie(undefined)).toBeUndefined();
    expect(sessionCookie('v', 90_500, true)).toBe(
      'aigw_console=v; Max-Age=90; Path=/; HttpOnly; SameSite=Strict; Secure',
    );
  });
});
