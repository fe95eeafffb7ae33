import { useEffect, useState } from 'preact/hooks';
import { api, type RequestJson } from './api.js';
import { formatCount, formatMs, formatTime, formatUsd } from './format.js';
import { Notice } from './notice.js';
import { RequestDetails } from './request-details.js';
import { useNames } from './use-names.js';

interface Filters {
  readonly key_id: string;
  readonly team_id: string;
  readonly model: string;
  readonly status: string;
  /** `datetime-local` values: the oldest time shown, and the log starts just before `until`. */
  readonly since: string;
  readonly until: string;
}

const NO_FILTERS: Filters = {
  key_id: '',
  team_id: '',
  model: '',
  status: '',
  since: '',
  until: '',
};
const PAGE_ROWS = 50;

/** The request ledger, newest first, filtered and paged; a row opens its details. */
export function RequestsPage() {
  const names = useNames();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [rows, setRows] = useState<RequestJson[]>([]);
  const [hasMore, setHasMore] = useState(false);
  const [state, setState] = useState<'loading' | 'ready' | Error>('loading');
  const [open, setOpen] = useState<string | undefined>();

  const load = async (before: string | undefined, append: boolean) => {
    setState('loading');
    try {
      const page = await api.requests({
        key_id: filters.key_id,
        team_id: filters.team_id,
        model: filters.model.trim(),
        status: filters.status.trim(),
        from: filters.since === '' ? undefined : new Date(filters.since).toISOString(),
        limit: PAGE_ROWS,
        before:
          before ?? (filters.until === '' ? undefined : new Date(filters.until).toISOString()),
      });
      setRows((previous) => (append ? [...previous, ...page.data] : page.data));
      setHasMore(page.has_more);
      setState('ready');
    } catch (error) {
      setState(error instanceof Error ? error : new Error(String(error)));
    }
  };
  // a new filter starts a new first page.
  useEffect(() => {
    void load(undefined, false);
  }, [filters]);

  const set = (name: keyof Filters) => (event: Event) =>
    setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value });
  const filtered = Object.values(filters).some((value) => value !== '');

  return (
    <section aria-labelledby="requests-title">
      <div class="page-head">
        <h1 id="requests-title">Request log</h1>
        <button type="button" class="button" onClick={() => void load(undefined, false)}>
          Refresh
        </button>
      </div>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters(draft);
        }}
      >
        <div class="field">
          <label for="filter-key">Key</label>
          <select id="filter-key" value={draft.key_id} onChange={set('key_id')}>
            <option value="">Any key</option>
            {names.keys.map((key) => (
              <option key={key.id} value={key.id}>
                {key.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-team">Team</label>
          <select id="filter-team" value={draft.team_id} onChange={set('team_id')}>
            <option value="">Any team</option>
            {names.teams.map((team) => (
              <option key={team.id} value={team.id}>
                {team.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-model">Model</label>
          <input
            id="filter-model"
            value={draft.model}
            onInput={set('model')}
            placeholder="Any model"
          />
        </div>
        <div class="field field-narrow">
          <label for="filter-status">Status</label>
          <input
            id="filter-status"
            inputMode="numeric"
            pattern="[1-5][0-9][0-9]"
            value={draft.status}
            onInput={set('status')}
            placeholder="e.g. 429"
          />
        </div>
        <div class="field">
          <label for="filter-since">From</label>
          <input
            id="filter-since"
            type="datetime-local"
            value={draft.since}
            onInput={set('since')}
          />
        </div>
        <div class="field">
          <label for="filter-until">Before</label>
          <input
            id="filter-until"
            type="datetime-local"
            value={draft.until}
            onInput={set('until')}
          />
        </div>
        <div class="form-actions">
          <button type="submit" class="button button-primary">
            Apply filters
          </button>
          {filtered ? (
            <button
              type="button"
              class="button"
              onClick={() => {
                setDraft(NO_FILTERS);
                setFilters(NO_FILTERS);
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      {state instanceof Error ? (
        <Notice
          kind="error"
          title="The request log could not be loaded."
          onRetry={() => void load(undefined, false)}
        >
          {state.message}
        </Notice>
      ) : null}
      {state === 'ready' && rows.length === 0 ? (
        <Notice
          kind="empty"
          title={filtered ? 'No request matches these filters.' : 'No requests yet.'}
        >
          {filtered
            ? 'Clear a filter or pick a later time.'
            : 'Requests made with a key show here, newest first, within a second or two.'}
        </Notice>
      ) : null}
      {rows.length === 0 ? null : (
        <div class="table-scroll">
          <table class="table requests">
            <caption class="visually-hidden">Requests, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Key</th>
                <th scope="col">Model</th>
                <th scope="col">Status</th>
                <th scope="col" class="number">
                  Tokens
                </th>
                <th scope="col" class="number">
                  Cost
                </th>
                <th scope="col" class="number">
                  Latency
                </th>
                <th scope="col">
                  <span class="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <RequestRow
                  key={row.id}
                  row={row}
                  keyName={names.key(row.key_id)}
                  teamName={names.team(row.team_id)}
                  open={open === row.id}
                  onToggle={() => setOpen(open === row.id ? undefined : row.id)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {state === 'loading' ? <Notice kind="loading" title="Loading requests…" /> : null}
      {hasMore && state === 'ready' ? (
        <button type="button" class="button" onClick={() => void load(rows.at(-1)?.id, true)}>
          Load older requests
        </button>
      ) : null}
    </section>
  );
}

function RequestRow({
  row,
  keyName,
  teamName,
  open,
  onToggle,
}: {
  row: RequestJson;
  keyName: string;
  teamName: string;
  open: boolean;
  onToggle: () => void;
}) {
  return (
    <>
      <tr class={row.status >= 400 ? 'failed' : ''}>
        <td class="nowrap">{formatTime(row.created_at)}</td>
        <td>{keyName}</td>
        <td>{row.model ?? '—'}</td>
        <td>
          <span class={`badge ${row.status >= 400 ? 'badge-revoked' : 'badge-active'}`}>
            {row.status}
          </span>
          {row.error_code === null ? null : <span class="muted small"> {row.error_code}</span>}
        </td>
        <td class="number">{formatCount(row.input_tokens + row.output_tokens)}</td>
        <td class="number">{formatUsd(row.cost_usd)}</td>
        <td class="number">{formatMs(row.latency_ms)}</td>
        <td>
          <button
            type="button"
            class="button button-small"
            aria-expanded={open}
            aria-controls={`details-${row.id}`}
            onClick={onToggle}
          >
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open ? (
        <tr class="details-row" id={`details-${row.id}`}>
          <td colSpan={8}>
            <RequestDetails row={row} keyName={keyName} teamName={teamName} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
