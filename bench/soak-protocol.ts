/** What `bench/soak-upstream.ts` tells the soak over the IPC channel. */

/** How one watched upstream response (`x-request-id: a-…`) ended, on the monotonic clock. */
export interface UpstreamEvent {
  readonly id: string;
  /** `aborted`: the gateway closed the connection before the response ended. */
  readonly outcome: 'aborted' | 'completed';
  /** `process.hrtime` in ms (CLOCK_MONOTONIC, the same in every process of the machine). */
  readonly at: number;
  /** From the request's arrival at the upstream to its end. */
  readonly lifetimeMs: number;
}

/** The answer to `{ type: 'stats' }`. */
export interface UpstreamStats {
  readonly type: 'stats';
  /** Sockets open to the upstream server, idle keep-alive ones included. */
  readonly openConnections: number;
  /** Responses begun and not yet closed. */
  readonly activeResponses: number;
  /** Requests received since start. */
  readonly started: number;
  /** Responses the client (the gateway) cut before their end, since start. */
  readonly cut: number;
  /** Watched responses that ended since the previous question. */
  readonly events: readonly UpstreamEvent[];
}

export function isUpstreamStats(value: unknown): value is UpstreamStats {
  return (
    typeof value === 'object' &&
    value !== null &&
    'type' in value &&
    value.type === 'stats' &&
    'events' in value &&
    Array.isArray(value.events)
  );
}
