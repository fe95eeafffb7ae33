import type { KeyJson, LimitStateJson } from './api.js';
import { formatTime } from './format.js';
import { BudgetCell, LimitsCell, RateCell } from './limit-cells.js';

/** Whether a key is in use, revoked or expired, as of now. */
export function keyStatus(key: KeyJson): 'active' | 'revoked' | 'expired' {
  if (key.revoked_at !== null) return 'revoked';
  if (key.expires_at !== null && Date.parse(key.expires_at) <= Date.now()) return 'expired';
  return 'active';
}

/** The keys, with their limits, what is left of them, and the actions on each. */
export function KeyTable({
  keys,
  states,
  teamName,
  onEdit,
  onRevoke,
}: {
  keys: readonly KeyJson[];
  states: ReadonlyMap<string, LimitStateJson>;
  teamName: (id: string | null) => string;
  onEdit: (key: KeyJson) => void;
  onRevoke: (key: KeyJson) => void;
}) {
  return (
    <div class="table-scroll">
      <table class="table">
        <caption class="visually-hidden">Virtual keys</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Team</th>
            <th scope="col">Limits</th>
            <th scope="col">Budget</th>
            <th scope="col">Now</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => {
            const status = keyStatus(key);
            return (
              <tr key={key.id} class={status === 'active' ? '' : 'inactive'}>
                <td>
                  <strong>{key.name}</strong>
                  <br />
                  <span class="mono muted">{key.key_prefix}…</span>
                </td>
                <td>{teamName(key.team_id)}</td>
                <td>
                  <LimitsCell limits={key} />
                </td>
                <td>
                  <BudgetCell state={states.get(key.id)} />
                </td>
                <td>
                  <RateCell state={states.get(key.id)} />
                </td>
                <td>
                  <span class={`badge badge-${status}`}>{status}</span>
                  {status === 'revoked' ? (
                    <span class="muted small">
                      <br />
                      {formatTime(key.revoked_at)}
                    </span>
                  ) : null}
                </td>
                <td class="actions">
                  {status === 'revoked' ? null : (
                    <>
                      <button
                        type="button"
                        class="button button-small"
                        onClick={() => onEdit(key)}
                        aria-label={`Edit key ${key.name}`}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        class="button button-small button-danger"
                        onClick={() => onRevoke(key)}
                        aria-label={`Revoke key ${key.name}`}
                      >
                        Revoke
                      </button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
