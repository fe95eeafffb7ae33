import type { Usage } from '../openai/chat-types.js';

/** Who is calling. Later: per-key limits and budgets hang off this. */
export interface Principal {
  /** A non-secret fingerprint of the key (or 'anonymous' in development mode). */
  readonly keyId: string;
}

/**
 * Per-request state shared by hooks, routes and the access log. Later capabilities (limits,
 * usage accounting, routing) read and fill it.
 */
export interface RequestContext {
  readonly startTime: number;
  principal?: Principal;
  provider?: string;
  model?: string;
  usage?: Usage;
  errorCode?: string;
  /** Set only by routes that call an upstream; aborted when the client goes away. */
  abortController?: AbortController;
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway: RequestContext;
  }
}
