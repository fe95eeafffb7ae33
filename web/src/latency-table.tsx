import type { LatencyGroupJson } from './api.js';
import { formatCount, formatMs, formatPercent } from './format.js';

/** Requests, error rate, latency and time to first token per model, provider or deployment. */
export function LatencyTable({
  groups,
  label,
  none = '(none)',
}: {
  groups: readonly LatencyGroupJson[];
  label: string;
  /** What the group of requests without one is called (refused before routing, for one). */
  none?: string;
}) {
  return (
    <div class="table-scroll">
      <table class="table">
        <thead>
          <tr>
            <th scope="col">{label}</th>
            <th scope="col" class="number">
              Requests
            </th>
            <th scope="col" class="number">
              Error rate
            </th>
            <th scope="col" class="number">
              Latency p50
            </th>
            <th scope="col" class="number">
              Latency p95
            </th>
            <th scope="col" class="number">
              TTFT p50
            </th>
            <th scope="col" class="number">
              TTFT p95
            </th>
          </tr>
        </thead>
        <tbody>
          {groups.length === 0 ? (
            <tr>
              <td colSpan={7} class="muted">
                No requests in this range.
              </td>
            </tr>
          ) : (
            groups.map((group) => (
              <tr key={group.group ?? 'none'}>
                <td>{group.group ?? none}</td>
                <td class="number">{formatCount(group.requests)}</td>
                <td class="number">{formatPercent(group.errors / group.requests)}</td>
                <td class="number">{formatMs(group.latency_p50_ms)}</td>
                <td class="number">{formatMs(group.latency_p95_ms)}</td>
                <td class="number">{formatMs(group.ttft_p50_ms)}</td>
                <td class="number">{formatMs(group.ttft_p95_ms)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
