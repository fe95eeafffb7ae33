/**
 * Small assertions and utilities shared by the `openai-sdk*.test.ts` suites (the client contract
 * over loopback). Not a test file itself.
 */
import type OpenAI from 'openai';
import { APIError } from 'openai';
import { expect } from 'vitest';
import type { FakeUpstream, RecordedRequest } from './fake-upstream.js';
import { CLIENT_KEY } from './gateway-harness.js';

/** The smallest valid conversation. */
export const MESSAGES = [{ role: 'user' as const, content: 'hi' }];
/** A request id the gateway generated (randomUUID). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Both configured providers. */
export const PROVIDERS = ['ollama', 'cerebras'] as const;

/** Node 20 has no Array.fromAsync. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** The single request the upstream saw since its last reset. */
export function onlyRequest(upstream: FakeUpstream): RecordedRequest {
  expect(upstream.requests).toHaveLength(1);
  const [request] = upstream.requests;
  if (request === undefined) throw new Error('no upstream request');
  return request;
}

/** A field the SDK's types do not declare (`reasoning_content`, Cerebras' `time_info`). */
export function extra(value: object | null | undefined, key: string): unknown {
  return value == null ? undefined : (value as Record<string, unknown>)[key];
}

/** Headers of an authorized JSON request, for the raw `fetch` cases. */
export function clientHeaders(more: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${CLIENT_KEY}`, 'content-type': 'application/json', ...more };
}

/** POSTs a raw body (malformed or oversized JSON the SDK would never send). */
export function postRaw(
  url: string,
  body: string,
  more: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, { method: 'POST', headers: clientHeaders(more), body });
}

/** The rejection of `promise`; fails the test if it resolves. */
export async function rejectionOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, got a result');
}

let sequence = 0;
/** A fresh, valid request id, sent as `x-request-id` and expected back as `requestID`. */
export function nextRequestId(): string {
  sequence += 1;
  return `e2e-${process.pid}-${sequence}`;
}

/** The fields of an OpenAI error as the SDK exposes them. */
export interface ExpectedError {
  readonly status: number | undefined;
  readonly code: string;
  readonly type: string;
  readonly param: string | null;
}

/**
 * Asserts the SDK error's class and fields, and that `requestID` and the response's
 * `x-request-id` are the id the client sent.
 */
export function expectSdkError(
  error: unknown,
  errorClass: abstract new (...args: never[]) => APIError,
  expected: ExpectedError,
  id: string,
): APIError {
  expect(error).toBeInstanceOf(errorClass);
  if (!(error instanceof APIError)) throw error;
  expect({
    status: error.status,
    code: error.code,
    type: error.type,
    param: error.param,
    requestID: error.requestID,
  }).toEqual({ ...expected, requestID: id });
  expect(error.headers?.get('x-request-id')).toBe(id);
  expect(error.message).not.toBe('');
  return error;
}

/** The upstream's only request carried the same request id. */
export function expectUpstreamSaw(upstream: FakeUpstream, id: string): void {
  expect(upstream.requests).toHaveLength(1);
  expect(upstream.requests[0]?.headers['x-request-id']).toBe(id);
}

/** A tool the fake upstream answers with a call when the last user message mentions weather. */
export const WEATHER_TOOL: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { location: { type: 'string' } },
      required: ['location'],
    },
  },
};

/** A conversation that makes the fake upstream call {@link WEATHER_TOOL}. */
export const WEATHER_QUESTION = [
  { role: 'user' as const, content: 'What is the weather in Paris?' },
];
