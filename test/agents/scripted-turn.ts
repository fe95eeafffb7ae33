/**
 * Answers an agent's turns from the fake upstream: whatever the agent asks (its main loop, a
 * title, a summary), the upstream answers in the dialect the request came in (Ollama NDJSON on
 * `/api/chat`, OpenAI SSE or JSON elsewhere), streamed when asked, with what `decide` says from
 * the chat request the gateway sent: a tool call, or text.
 */
import type { FakeResponder, RecordedRequest } from '../helpers/fake-upstream.js';
import { type ScriptedAnswer, scriptedAnswer } from '../helpers/responses-upstream.js';

/** A chat request as the upstream got it, either dialect. */
export interface ChatTurn {
  readonly messages: readonly { readonly role: string; readonly content?: unknown }[];
  /** The names of the function tools offered. */
  readonly toolNames: readonly string[];
  /** Whether a tool already answered in this conversation (its result is in the history). */
  readonly hasToolResult: boolean;
}

/** A responder (enqueue it once per expected request) that answers with `decide(turn)`. */
export function scriptedTurn(decide: (turn: ChatTurn) => ScriptedAnswer): FakeResponder {
  return (request: RecordedRequest) => {
    const body = request.json as {
      readonly messages?: ChatTurn['messages'];
      readonly tools?: readonly { readonly function?: { readonly name?: string } }[];
      readonly stream?: boolean;
    };
    const messages = body.messages ?? [];
    const turn: ChatTurn = {
      messages,
      toolNames: (body.tools ?? []).map((tool) => tool.function?.name ?? ''),
      hasToolResult: messages.some((message) => message.role === 'tool'),
    };
    const dialect = request.path.startsWith('/api/chat') ? 'ollama' : 'cerebras';
    return scriptedAnswer(dialect, body.stream === true, decide(turn));
  };
}
