import { api } from './api.js';
import { useLoader } from './use-loader.js';

/** Names of keys and teams by id, for labels; a deleted team or an unknown id shows its id. */
export interface Names {
  key(id: string | null): string;
  team(id: string | null): string;
  readonly keys: readonly { id: string; name: string; team_id: string | null }[];
  readonly teams: readonly { id: string; name: string }[];
}

/** Loads the keys and teams once per page. */
export function useNames(): Names {
  const loaded = useLoader(() => Promise.all([api.keys(), api.teams()]), []);
  const [keys, teams] = loaded.data ?? [{ data: [] }, { data: [] }];
  const keyNames = new Map(keys.data.map((key) => [key.id, key.name]));
  const teamNames = new Map(teams.data.map((team) => [team.id, team.name]));
  return {
    key: (id) => (id === null ? 'static keys' : (keyNames.get(id) ?? id)),
    team: (id) => (id === null ? 'no team' : (teamNames.get(id) ?? id)),
    keys: keys.data,
    teams: teams.data,
  };
}
