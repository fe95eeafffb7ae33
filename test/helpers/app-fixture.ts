/**
 * The app the `test/http` suites inject into: both providers faked, two client keys, and the
 * options those suites vary; plus the checks they share.
 */
import { expect } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createFakeProvider, type FakeProviderBehaviour } from './fake-provider.js';
import type { captureLogs } from './log-capture.js';

/** The first of the two client keys the app accepts. */
export const KEY = 'test-key-0123456789';
export const auth = { authorization: `Bearer ${KEY}` };
export const chatBody = { model: 'm1', messages: [{ role: 'user', content: 'hi' }] };

/** A gateway in front of a fake `ollama` (the default provider) and a fake `cerebras`. */
export async function appWith(
  options: {
    ollama?: FakeProviderBehaviour;
    cerebras?: FakeProviderBehaviour;
    cors?: string[];
    securityHeaders?: boolean;
    authDisabled?: boolean;
    bodyLimitBytes?: number;
    logs?: ReturnType<typeof captureLogs>;
  } = {},
) {
  const ollama = createFakeProvider('ollama', options.ollama);
  const cerebras = createFakeProvider('cerebras', options.cerebras);
  const app = await buildApp({
    providers: new Map([
      ['ollama', ollama],
      ['cerebras', cerebras],
    ]),
    apiKeys: [KEY, 'second-key-abcdefgh'],
    ...(options.cors ? { corsAllowedOrigins: options.cors } : {}),
    ...(options.securityHeaders === undefined ? {} : { securityHeaders: options.securityHeaders }),
    ...(options.authDisabled ? { authDisabled: true } : {}),
    ...(options.bodyLimitBytes ? { bodyLimitBytes: options.bodyLimitBytes } : {}),
    ...(options.logs ? { logger: options.logs.logger } : {}),
  });
  return { app, ollama, cerebras };
}

/** Checks an OpenAI error body of `type` and `code` with a message and a `param`; returns its `error`. */
export function expectEnvelope(body: string, type: string, code: string) {
  const parsed = JSON.parse(body) as { error: Record<string, unknown> };
  expect(parsed.error).toMatchObject({ type, code });
  expect(typeof parsed.error.message).toBe('string');
  expect((parsed.error.message as string).length).toBeGreaterThan(0);
  expect(parsed.error).toHaveProperty('param');
  return parsed.error;
}
