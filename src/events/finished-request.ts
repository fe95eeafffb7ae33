/**
 * The end of a request as one event: what the access log, the metrics and the usage ledger each
 * record, made once per request when its response closes. Observers know no HTTP and run in the
 * order given; each must be cheap and must not throw (they run on the request's `close`).
 */
import type { Usage } from '../openai/chat-types.js';
import type { AdmissionTicket } from '../tenancy/admission.js';
import type { Principal } from '../tenancy/principal.js';

export interface FinishedRequest {
  readonly requestId: string;
  readonly method: string;
  /** The matched route's pattern, or 'unmatched'. */
  readonly route: string;
  /** The status sent, or 499 when the client left first. */
  readonly status: number;
  /** When the request arrived, in epoch milliseconds. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** From arrival to the first chunk of a stream. */
  readonly ttftMs: number | undefined;
  readonly principal: Principal | undefined;
  readonly provider: string | undefined;
  /** The model the client asked for. */
  readonly model: string | undefined;
  /** `provider/model` that served it, and after how many attempts. */
  readonly deployment: string | undefined;
  readonly attempts: number | undefined;
  /** The deployments that failed, and how (`a/x (upstream_timeout), b/y (…)`). */
  readonly tried: string | undefined;
  readonly usage: Usage | undefined;
  readonly errorCode: string | undefined;
  readonly streamed: boolean;
  /** Chunks a stream relayed; 0 for a response that was not streamed. */
  readonly streamedChunks: number;
  /** An inference request (it goes in the usage ledger, whoever sent it). */
  readonly billable: boolean;
  /** What a virtual key's admission holds until the request is settled. */
  readonly ticket: AdmissionTicket | undefined;
}

export type RequestObserver = (request: FinishedRequest) => void;
