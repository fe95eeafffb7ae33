import type { LimitStateJson } from './api.js';
import { formatCount, formatUsd } from './format.js';

/** A key's or team's limits as set: requests and tokens per minute, requests at once. */
export function LimitsCell({
  limits,
}: {
  limits: { rpm_limit: number | null; tpm_limit: number | null; max_concurrent: number | null };
}) {
  const parts = [
    limits.rpm_limit === null ? undefined : `${formatCount(limits.rpm_limit)} rpm`,
    limits.tpm_limit === null ? undefined : `${formatCount(limits.tpm_limit)} tpm`,
    limits.max_concurrent === null ? undefined : `${limits.max_concurrent} at once`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? (
    <span class="muted">No limits</span>
  ) : (
    <span>{parts.join(' · ')}</span>
  );
}

/** What is left of each budget this period, against its limit. */
export function BudgetCell({ state }: { state: LimitStateJson | undefined }) {
  const usd = state?.budget_usd ?? null;
  const tokens = state?.budget_tokens ?? null;
  if (usd === null && tokens === null) return <span class="muted">No budget</span>;
  const period = (usd ?? tokens)?.period;
  return (
    <span>
      {usd === null ? null : (
        <span class={usd.remaining <= 0 ? 'bad' : ''}>
          {formatUsd(usd.remaining)} of {formatUsd(usd.limit)} left
        </span>
      )}
      {usd !== null && tokens !== null ? <br /> : null}
      {tokens === null ? null : (
        <span class={tokens.remaining <= 0 ? 'bad' : ''}>
          {formatCount(tokens.remaining)} of {formatCount(tokens.limit)} tokens left
        </span>
      )}
      <br />
      <span class="muted">{period === 'total' ? 'in total' : `this ${period} (UTC)`}</span>
    </span>
  );
}

/** The rate limits' counters now: what this minute has left, and requests in flight. */
export function RateCell({ state }: { state: LimitStateJson | undefined }) {
  const parts: string[] = [];
  if (state?.rpm)
    parts.push(`${formatCount(state.rpm.remaining)}/${formatCount(state.rpm.limit)} rpm left`);
  if (state?.tpm)
    parts.push(`${formatCount(state.tpm.remaining)}/${formatCount(state.tpm.limit)} tpm left`);
  if (state?.concurrent)
    parts.push(`${state.concurrent.active}/${state.concurrent.limit} in flight`);
  if (parts.length === 0) return <span class="muted">—</span>;
  return (
    <span>
      {parts.map((part, index) => (
        <span key={part}>
          {index > 0 ? <br /> : null}
          {part}
        </span>
      ))}
    </span>
  );
}
