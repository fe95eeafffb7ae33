import { useMemo, useState } from 'preact/hooks';
import {
  api,
  type CreatedKeyJson,
  type KeyJson,
  type LimitStateJson,
  type TeamJson,
} from './api.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { KeyTable, keyStatus } from './key-table.js';
import { LimitsForm, type LimitsFormValue } from './limits-form.js';
import { Notice } from './notice.js';
import { SecretPanel } from './secret-panel.js';
import { TeamTable } from './team-table.js';
import { useLoader } from './use-loader.js';

type Editing =
  | { readonly kind: 'new-key' }
  | { readonly kind: 'key'; readonly key: KeyJson }
  | { readonly kind: 'new-team' }
  | { readonly kind: 'team'; readonly team: TeamJson };

type Confirming =
  | { readonly kind: 'revoke'; readonly key: KeyJson }
  | { readonly kind: 'delete'; readonly team: TeamJson };

/** Keys and teams: list, search, create, edit limits, revoke or delete; what each has left. */
export function KeysPage() {
  const loaded = useLoader(() => Promise.all([api.keys(), api.teams(), api.limits()]), []);
  const [search, setSearch] = useState('');
  const [showInactive, setShowInactive] = useState(false);
  const [editing, setEditing] = useState<Editing | undefined>();
  const [confirming, setConfirming] = useState<Confirming | undefined>();
  const [created, setCreated] = useState<CreatedKeyJson | undefined>();

  const [keysAnswer, teamsAnswer, limitsAnswer] = loaded.data ?? [];
  const keys = keysAnswer?.data ?? [];
  const teams = teamsAnswer?.data ?? [];
  const states = useMemo(
    () => new Map((limitsAnswer?.data ?? []).map((state: LimitStateJson) => [state.id, state])),
    [limitsAnswer],
  );
  const teamName = (id: string | null) =>
    id === null ? '—' : (teams.find((team) => team.id === id)?.name ?? 'deleted team');
  const needle = search.trim().toLowerCase();
  const shownKeys = keys
    .filter((key) => showInactive || keyStatus(key) === 'active')
    .filter(
      (key) =>
        needle === '' ||
        [key.name, key.id, key.key_prefix, teamName(key.team_id)].some((text) =>
          text.toLowerCase().includes(needle),
        ),
    )
    .reverse();

  const save = async (value: LimitsFormValue) => {
    if (editing?.kind === 'new-key') setCreated(await api.createKey(value));
    else if (editing?.kind === 'key') await api.updateKey(editing.key.id, value);
    else if (editing?.kind === 'new-team') await api.createTeam(value);
    else if (editing?.kind === 'team') await api.updateTeam(editing.team.id, value);
    setEditing(undefined);
    loaded.reload();
  };

  if (loaded.error !== undefined && loaded.data === undefined) {
    return (
      <Notice kind="error" title="Keys and teams could not be loaded." onRetry={loaded.reload}>
        {loaded.error.message}
      </Notice>
    );
  }
  if (loaded.data === undefined) return <Notice kind="loading" title="Loading keys and teams…" />;

  const form = (kind: 'key' | 'team') =>
    editing === undefined || !editing.kind.endsWith(kind) ? null : (
      <LimitsForm
        kind={kind}
        {...(editing.kind === 'key' ? { initial: editing.key } : {})}
        {...(editing.kind === 'team' ? { initial: editing.team } : {})}
        teams={teams}
        submitLabel={
          editing.kind === 'new-key'
            ? 'Create key'
            : editing.kind === 'new-team'
              ? 'Create team'
              : 'Save changes'
        }
        onSubmit={save}
        onCancel={() => setEditing(undefined)}
      />
    );

  return (
    <>
      <section aria-labelledby="keys-title">
        <div class="page-head">
          <h1 id="keys-title">Keys</h1>
          <button
            type="button"
            class="button button-primary"
            onClick={() => {
              setCreated(undefined);
              setEditing({ kind: 'new-key' });
            }}
          >
            Create key
          </button>
        </div>
        {created === undefined ? null : (
          <SecretPanel created={created} onDone={() => setCreated(undefined)} />
        )}
        {form('key')}
        <div class="toolbar">
          <label for="key-search" class="visually-hidden">
            Search keys
          </label>
          <input
            id="key-search"
            type="search"
            placeholder="Search by name, id, prefix or team"
            value={search}
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
          <label class="check">
            <input
              type="checkbox"
              checked={showInactive}
              onChange={(event) => setShowInactive(event.currentTarget.checked)}
            />
            Show revoked and expired
          </label>
        </div>
        {keys.length === 0 ? (
          <Notice kind="empty" title="No keys yet.">
            Create a key to give a person or an application access to the gateway, with its own
            limits and budget.
          </Notice>
        ) : shownKeys.length === 0 ? (
          <Notice kind="empty" title="No key matches.">
            Clear the search{showInactive ? '' : ', or show revoked and expired keys'}.
          </Notice>
        ) : (
          <KeyTable
            keys={shownKeys}
            states={states}
            teamName={teamName}
            onEdit={(key) => setEditing({ kind: 'key', key })}
            onRevoke={(key) => setConfirming({ kind: 'revoke', key })}
          />
        )}
      </section>
      <section aria-labelledby="teams-title">
        <div class="page-head">
          <h2 id="teams-title">Teams</h2>
          <button type="button" class="button" onClick={() => setEditing({ kind: 'new-team' })}>
            Create team
          </button>
        </div>
        {form('team')}
        {teams.length === 0 ? (
          <Notice kind="empty" title="No teams yet.">
            A team groups keys under shared limits and a shared budget.
          </Notice>
        ) : (
          <TeamTable
            teams={teams}
            keys={keys}
            states={states}
            onEdit={(team) => setEditing({ kind: 'team', team })}
            onDelete={(team) => setConfirming({ kind: 'delete', team })}
          />
        )}
      </section>
      {confirming === undefined ? null : confirming.kind === 'revoke' ? (
        <ConfirmDialog
          title={`Revoke the key “${confirming.key.name}”?`}
          confirmLabel="Revoke key"
          onConfirm={async () => {
            await api.revokeKey(confirming.key.id);
            loaded.reload();
          }}
          onClose={() => setConfirming(undefined)}
        >
          <p>
            Requests with it are refused (401) at once. This cannot be undone: a new key would have
            a new secret.
          </p>
        </ConfirmDialog>
      ) : (
        <ConfirmDialog
          title={`Delete the team “${confirming.team.name}”?`}
          confirmLabel="Delete team and revoke its keys"
          onConfirm={async () => {
            await api.deleteTeam(confirming.team.id);
            loaded.reload();
          }}
          onClose={() => setConfirming(undefined)}
        >
          <p>Every key of the team is revoked with it. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </>
  );
}
