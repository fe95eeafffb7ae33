import type { RequestJson } from './api.js';
import { formatCount, formatMs, formatTime, formatUsd } from './format.js';

/** Everything the ledger holds about one request (never its prompt or answer: it has neither). */
export function RequestDetails({
  row,
  keyName,
  teamName,
}: {
  row: RequestJson;
  keyName: string;
  teamName: string;
}) {
  const fields: [string, string][] = [
    ['Request id', row.request_id],
    ['Time', formatTime(row.created_at)],
    ['Route', row.route],
    ['Key', `${keyName}${row.key_id === null ? '' : ` (${row.key_id})`}`],
    ['Team', teamName],
    ['Model asked', row.model ?? '—'],
    ['Model served', row.served_model ?? '—'],
    ['Provider', row.provider ?? '—'],
    ['Deployment served', row.deployment ?? '—'],
    [
      'Deployments tried',
      row.tried ?? (row.deployment === null ? '—' : 'only the one that served'),
    ],
    ['Attempts', row.attempts === null ? '—' : String(row.attempts)],
    ['Streamed', row.stream ? 'yes' : 'no'],
    ['Status', String(row.status)],
    ['Error code', row.error_code ?? '—'],
    ['Input tokens', formatCount(row.input_tokens)],
    ['Output tokens', formatCount(row.output_tokens)],
    ['Cost', formatUsd(row.cost_usd)],
    ['Latency', formatMs(row.latency_ms)],
    ['Time to first token', formatMs(row.ttft_ms)],
  ];
  return (
    <dl class="details">
      {fields.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd class={name === 'Request id' ? 'mono' : ''}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
