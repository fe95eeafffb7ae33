/**
 * Joins the soak's client aborts with the upstream's view of them, by request id: how long after
 * the client's abort the upstream saw its connection close (both on CLOCK_MONOTONIC), how long the
 * upstream request had lived, and aborted requests the upstream ran to completion (a leak: the
 * gateway did not cancel the upstream call).
 */
import type { UpstreamEvent } from './soak-protocol.js';

/** Request ids: `a-<phase>-<n>`, e.g. `a-early-12` (before the first byte), `a-mid-7`, `a-storm-3`. */
export type AbortPhase = 'early' | 'mid' | 'storm';

export interface PhaseJoin {
  /** Client abort → upstream close, ms. */
  readonly delays: number[];
  /** Upstream arrival → upstream close, ms, for the aborted ones. */
  readonly lifetimes: number[];
  /** Aborted by the client, yet the upstream sent its whole response. */
  completed: number;
}

export class AbortJoin {
  /** When the soak aborted each watched request (monotonic ms); emptied as reports arrive. */
  readonly abortedAt = new Map<string, number>();
  readonly #phases: Record<AbortPhase, PhaseJoin> = {
    early: { delays: [], lifetimes: [], completed: 0 },
    mid: { delays: [], lifetimes: [], completed: 0 },
    storm: { delays: [], lifetimes: [], completed: 0 },
  };

  absorb(events: readonly UpstreamEvent[]): void {
    for (const event of events) {
      const phase = this.#phases[phaseOf(event.id)];
      const clientAt = this.abortedAt.get(event.id);
      // A watched request the client never aborted (an unexpected status) is not a leak.
      if (clientAt === undefined) continue;
      this.abortedAt.delete(event.id);
      if (event.outcome === 'completed') {
        phase.completed += 1;
        continue;
      }
      phase.delays.push(event.at - clientAt);
      phase.lifetimes.push(event.lifetimeMs);
    }
  }

  phase(name: AbortPhase): PhaseJoin {
    return this.#phases[name];
  }

  /** Aborts of a phase the upstream never reported: the request never reached it. */
  unreported(name: AbortPhase): number {
    return [...this.abortedAt.keys()].filter((id) => phaseOf(id) === name).length;
  }
}

export function phaseOf(id: string): AbortPhase {
  const phase = id.split('-')[1];
  return phase === 'early' || phase === 'storm' ? phase : 'mid';
}
