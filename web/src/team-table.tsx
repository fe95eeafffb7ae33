import type { KeyJson, LimitStateJson, TeamJson } from './api.js';
import { BudgetCell, LimitsCell, RateCell } from './limit-cells.js';

/** The teams, with their limits, what is left of them, their keys, and the actions on each. */
export function TeamTable({
  teams,
  keys,
  states,
  onEdit,
  onDelete,
}: {
  teams: readonly TeamJson[];
  keys: readonly KeyJson[];
  states: ReadonlyMap<string, LimitStateJson>;
  onEdit: (team: TeamJson) => void;
  onDelete: (team: TeamJson) => void;
}) {
  return (
    <div class="table-scroll">
      <table class="table">
        <caption class="visually-hidden">Teams</caption>
        <thead>
          <tr>
            <th scope="col">Team</th>
            <th scope="col" class="number">
              Active keys
            </th>
            <th scope="col">Limits</th>
            <th scope="col">Budget</th>
            <th scope="col">Now</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {teams.map((team) => (
            <tr key={team.id}>
              <td>
                <strong>{team.name}</strong>
                <br />
                <span class="mono muted small">{team.id}</span>
              </td>
              <td class="number">
                {keys.filter((key) => key.team_id === team.id && key.revoked_at === null).length}
              </td>
              <td>
                <LimitsCell limits={team} />
              </td>
              <td>
                <BudgetCell state={states.get(team.id)} />
              </td>
              <td>
                <RateCell state={states.get(team.id)} />
              </td>
              <td class="actions">
                <button
                  type="button"
                  class="button button-small"
                  onClick={() => onEdit(team)}
                  aria-label={`Edit team ${team.name}`}
                >
                  Edit
                </button>
                <button
                  type="button"
                  class="button button-small button-danger"
                  onClick={() => onDelete(team)}
                  aria-label={`Delete team ${team.name}`}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
