import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitView } from '../../tenancy/admission.js';
import type { BucketState } from '../../tenancy/limit-counters.js';
import type { Tenancy } from '../../tenancy/tenancy.js';

/** What an inference route produces: text (output tokens to reserve) or embeddings (none). */
export type AdmissionKind = 'generate' | 'embed';

/** Makes the admission hook of one route: its pinned provider (if any) and its kind. */
export type AdmissionHookFactory = (
  pinnedProvider: string | undefined,
  kind: AdmissionKind,
) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** About four characters of JSON per token: a cheap estimate that grows with the prompt. */
const CHARACTERS_PER_TOKEN = 4;

/**
 * A route-level preHandler for every inference route (once the body is parsed and valid): marks
 * the request billable (the ledger takes it, whoever sent it), and for a virtual key admits it
 * against its allowlists, limits and budgets, writes OpenAI's `x-ratelimit-*` headers, and keeps
 * the ticket to settle when the request ends. A refusal is thrown as the route's error.
 */
export function admissionHooks(tenancy: Tenancy): AdmissionHookFactory {
  return (pinnedProvider, kind) =>
    async function admissionHook(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const context = request.gateway;
      context.billable = true;
      const tenant = context.principal?.tenant;
      if (tenant === undefined) return;
      const body = (request.body ?? {}) as Record<string, unknown>;
      const model = typeof body.model === 'string' ? body.model : '';
      // Set before a refusal, so its ledger row says which model was refused.
      context.model = model;
      const outcome = await tenancy.admit(tenant, {
        requestId: request.id,
        model,
        pinnedProvider,
        inputTokens: Math.ceil(bodyLength(request) / CHARACTERS_PER_TOKEN),
        outputTokens: kind === 'embed' ? 0 : (maxOutputTokens(body) ?? tenancy.reserveMaxTokens),
      });
      writeRateHeaders(reply, outcome.ok ? outcome.ticket.rates : outcome.rates);
      if (!outcome.ok) throw outcome.error;
      context.ticket = outcome.ticket;
    };
}

function bodyLength(request: FastifyRequest): number {
  const declared = Number(request.headers['content-length']);
  return Number.isSafeInteger(declared) && declared > 0
    ? declared
    : JSON.stringify(request.body ?? '').length;
}

/**
 * The client's own cap on output, whichever API it speaks: Chat Completions' `max_tokens` or
 * `max_completion_tokens`, Responses' `max_output_tokens`, Ollama's `options.num_predict`.
 */
function maxOutputTokens(body: Record<string, unknown>): number | undefined {
  const options = body.options as Record<string, unknown> | undefined;
  for (const value of [
    body.max_completion_tokens,
    body.max_tokens,
    body.max_output_tokens,
    typeof options === 'object' && options !== null ? options.num_predict : undefined,
  ]) {
    if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  }
  return undefined;
}

/** OpenAI's headers, for each kind of rate limit the key (or its team) has. */
function writeRateHeaders(reply: FastifyReply, rates: RateLimitView): void {
  if (rates.requests !== undefined) writeBucket(reply, 'requests', rates.requests);
  if (rates.tokens !== undefined) writeBucket(reply, 'tokens', rates.tokens);
}

function writeBucket(reply: FastifyReply, kind: 'requests' | 'tokens', state: BucketState): void {
  reply.header(`x-ratelimit-limit-${kind}`, String(state.limit));
  reply.header(`x-ratelimit-remaining-${kind}`, String(state.remaining));
  reply.header(`x-ratelimit-reset-${kind}`, formatReset(state.resetMs));
}

/** A wait as OpenAI writes it: `20ms`, `1s`, `6m0s`, `1h2m3s`. */
export function formatReset(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const total = Math.ceil(ms / 1_000);
  const hours = Math.floor(total / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}
