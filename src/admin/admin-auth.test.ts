import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createConsoleSessions, SESSION_IDLE_MS } from '../console/console-sessions.js';
import { adminAuth } from './admin-auth.js';

const ADMIN_KEY = 'admin-key-0123456789-abcdefghijklmnopqrstuvwxyz';

/** Runs the hook on a request with these headers; returns its error and the cookie it set. */
function run(
  hook: ReturnType<typeof adminAuth>,
  method: string,
  headers: Record<string, string>,
): { error: Error | undefined; setCookie: string | undefined } {
  let setCookie: string | undefined;
  let error: Error | undefined;
  const reply = {
    header(name: string, value: string) {
      if (name === 'set-cookie') setCookie = value;
      return reply;
    },
  };
  hook(
    { method, headers, protocol: 'http' } as unknown as FastifyRequest,
    reply as unknown as FastifyReply,
    (failure) => {
      error = failure;
    },
  );
  return { error, setCookie };
}

describe('the admin auth hook with console sessions', () => {
  it('renews a session past half its idle time through its cookie, and not before', () => {
    let time = Date.UTC(2031, 0, 5);
    const sessions = createConsoleSessions({ adminApiKey: ADMIN_KEY, now: () => time });
    const hook = adminAuth({ adminApiKey: ADMIN_KEY, sessions });
    const { cookieValue } = sessions.issue();
    const cookie = { cookie: `aigw_console=${cookieValue}` };
    expect(run(hook, 'GET', cookie)).toEqual({ error: undefined, setCookie: undefined });
    time += SESSION_IDLE_MS * 0.75;
    const renewed = run(hook, 'GET', cookie);
    expect(renewed.error).toBeUndefined();
    expect(renewed.setCookie).toMatch(/^aigw_console=v1\..+; Max-Age=1800; Path=\/; HttpOnly/);
    // The old cookie runs out at its own time; the renewed one goes on.
    time += SESSION_IDLE_MS * 0.5;
    expect(run(hook, 'GET', cookie).error?.message).toMatch(/session ended/);
    const next = { cookie: (renewed.setCookie ?? '').split(';')[0] ?? '' };
    expect(run(hook, 'GET', next).error).toBeUndefined();
  });

  it('takes only the Bearer key without sessions, and judges a request by its Authorization', () => {
    const sessions = createConsoleSessions({ adminApiKey: ADMIN_KEY, now: Date.now });
    const { cookieValue } = sessions.issue();
    const cookie = `aigw_console=${cookieValue}`;
    const keyOnly = adminAuth({ adminApiKey: ADMIN_KEY });
    expect(run(keyOnly, 'GET', { cookie }).error?.message).toMatch(/admin API key/);
    expect(run(keyOnly, 'GET', { authorization: `Bearer ${ADMIN_KEY}` }).error).toBeUndefined();
    const both = adminAuth({ adminApiKey: ADMIN_KEY, sessions });
    expect(run(both, 'GET', { cookie, authorization: 'Bearer nope' }).error).toBeDefined();
    expect(run(both, 'DELETE', { cookie }).error?.message).toMatch(/x-csrf-token/);
  });
});
