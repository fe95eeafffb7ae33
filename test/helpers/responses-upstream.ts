/**
 * What the Responses e2e suites run against: the four ways a request reaches the fake upstream
 * (routed `/v1` and pinned, in both dialects), scripted answers with text, parallel tool calls
 * whose arguments stream in many pieces, and length stops, in either dialect, JSON or stream; and
 * how to read back the chat request the gateway sent.
 */
import { expect } from 'vitest';
import type { FakeResponse, FakeUpstream, RecordedRequest } from './fake-upstream.js';
import {
  ndjsonResponse,
  ollamaChatResponse,
  ollamaNdjsonLines,
  openAiCompletion,
  SSE_DONE,
  sseEvent,
  sseResponse,
  type WireProvider,
} from './fake-upstream-wire.js';

/** One way in: the SDK's path prefix ('' is the routed `/v1`) and the model that lands in `dialect`. */
export interface ResponsesRoute {
  readonly name: string;
  readonly dialect: WireProvider;
  readonly prefix: string;
  readonly model: string;
}

/** Routed and pinned, Ollama NDJSON and OpenAI SSE (Cerebras). */
export const RESPONSES_ROUTES: readonly ResponsesRoute[] = [
  { name: '/ollama/v1 (NDJSON)', dialect: 'ollama', prefix: 'ollama', model: 'llama3.2' },
  { name: '/v1 → ollama (NDJSON)', dialect: 'ollama', prefix: '', model: 'llama3.2' },
  { name: '/cerebras/v1 (SSE)', dialect: 'cerebras', prefix: 'cerebras', model: 'llama3.1-8b' },
  { name: '/v1 → cerebras (SSE)', dialect: 'cerebras', prefix: '', model: 'cerebras/llama3.1-8b' },
];

/** A tool call the upstream makes: its arguments as an object (Ollama) or JSON text (OpenAI). */
export interface ScriptedCall {
  readonly name: string;
  readonly arguments: Record<string, unknown>;
}

/** What a scripted upstream answer holds. */
export interface ScriptedAnswer {
  readonly text?: readonly string[];
  readonly calls?: readonly ScriptedCall[];
  /** `length` for a cut answer; else `stop`, or `tool_calls` when there are calls. */
  readonly finishReason?: 'stop' | 'length';
  /** OpenAI SSE only: each call's arguments are cut into this many pieces (default 1). */
  readonly argumentPieces?: number;
  readonly promptTokens?: number;
  readonly completionTokens?: number;
}

/** The answer in `dialect`, as JSON or as a stream. */
export function scriptedAnswer(
  dialect: WireProvider,
  stream: boolean,
  answer: ScriptedAnswer,
): FakeResponse {
  return dialect === 'ollama' ? ollamaAnswer(stream, answer) : openAiAnswer(stream, answer);
}

function ollamaAnswer(stream: boolean, answer: ScriptedAnswer): FakeResponse {
  const calls = answer.calls?.map((call) => ({
    function: { name: call.name, arguments: { ...call.arguments } },
  }));
  const options = {
    ...(calls === undefined ? {} : { toolCalls: calls }),
    ...(answer.finishReason === 'length' ? { doneReason: 'length' } : {}),
    ...(answer.promptTokens === undefined ? {} : { promptEvalCount: answer.promptTokens }),
    ...(answer.completionTokens === undefined ? {} : { evalCount: answer.completionTokens }),
  };
  const text = answer.text ?? [];
  if (!stream) return { body: ollamaChatResponse({ ...options, content: text.join('') }) };
  return ndjsonResponse(ollamaNdjsonLines(text, options));
}

const CHUNK_BASE = {
  id: 'chatcmpl-scripted',
  object: 'chat.completion.chunk',
  created: 1_760_000_000,
  model: 'llama3.1-8b',
} as const;

function openAiAnswer(stream: boolean, answer: ScriptedAnswer): FakeResponse {
  const text = answer.text ?? [];
  const calls = answer.calls ?? [];
  const finishReason = answer.finishReason ?? (calls.length > 0 ? 'tool_calls' : 'stop');
  const promptTokens = answer.promptTokens ?? 12;
  const completionTokens = answer.completionTokens ?? text.length + calls.length;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  if (!stream) {
    const toolCalls = calls.map((call, index) => ({
      id: `call_scripted_${index}`,
      type: 'function' as const,
      function: { name: call.name, arguments: JSON.stringify(call.arguments) },
    }));
    return {
      body: openAiCompletion({
        content: calls.length > 0 && text.length === 0 ? null : text.join(''),
        ...(toolCalls.length > 0 ? { toolCalls } : {}),
        finishReason,
        promptTokens,
        completionTokens,
      }),
    };
  }
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    sseEvent({ ...CHUNK_BASE, choices: [{ index: 0, delta, finish_reason: finish }] });
  const events = [chunk({ role: 'assistant', content: '' })];
  for (const piece of text) events.push(chunk({ content: piece }));
  calls.forEach((call, index) => {
    const head = { index, id: `call_scripted_${index}`, type: 'function' };
    events.push(chunk({ tool_calls: [{ ...head, function: { name: call.name, arguments: '' } }] }));
    for (const piece of cut(JSON.stringify(call.arguments), answer.argumentPieces ?? 1)) {
      events.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  events.push(chunk({}, finishReason));
  events.push(sseEvent({ ...CHUNK_BASE, choices: [], usage }), SSE_DONE);
  return sseResponse(events);
}

/** `text` cut into `pieces` parts of about equal length (some may be one character). */
function cut(text: string, pieces: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += size)
    parts.push(text.slice(start, start + size));
  return parts;
}

/** A chat message as the upstream received it, whatever the dialect. */
export interface UpstreamMessage {
  readonly role: string;
  readonly content: unknown;
  readonly tool_calls?: readonly { function: { name: string; arguments: unknown } }[];
  readonly [extra: string]: unknown;
}

/** The body of the upstream's only request, as parsed JSON. */
export function upstreamBody(upstream: FakeUpstream): Record<string, unknown> {
  expect(upstream.requests).toHaveLength(1);
  const request = upstream.requests[0] as RecordedRequest;
  return request.json as Record<string, unknown>;
}

/** A tool call's arguments as an object, from either dialect (Ollama sends objects). */
export function callArguments(call: { function: { arguments: unknown } }): unknown {
  const value = call.function.arguments;
  return typeof value === 'string' ? JSON.parse(value) : value;
}
