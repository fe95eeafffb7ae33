import { useState } from 'preact/hooks';
import { ApiError, type KeyJson, type LimitsInput, type TeamJson } from './api.js';

/** What the form sends: a team's or a key's fields; null clears a limit. */
export type LimitsFormValue = LimitsInput & {
  name: string;
  team_id?: string | null;
  expires_at?: string | null;
};

interface Field {
  readonly name: 'rpm_limit' | 'tpm_limit' | 'max_concurrent' | 'budget_usd' | 'budget_tokens';
  readonly label: string;
  readonly hint: string;
  readonly step: string;
}

const NUMBER_FIELDS: readonly Field[] = [
  { name: 'rpm_limit', label: 'Requests per minute', hint: 'Empty: no limit', step: '1' },
  { name: 'tpm_limit', label: 'Tokens per minute', hint: 'Empty: no limit', step: '1' },
  { name: 'max_concurrent', label: 'Requests at once', hint: 'Empty: no limit', step: '1' },
  { name: 'budget_usd', label: 'Budget (USD)', hint: 'Empty: no budget', step: '0.01' },
  { name: 'budget_tokens', label: 'Budget (tokens)', hint: 'Empty: no budget', step: '1' },
];

/**
 * Creates or edits a team or a key: its name, limits and budget (and for a key its team and
 * expiry). Every limit is sent, empty as null, so an edit clears what was emptied. A 400 from the
 * gateway is shown beside the field it names.
 */
export function LimitsForm({
  kind,
  initial,
  teams,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  kind: 'key' | 'team';
  initial?: KeyJson | TeamJson;
  teams: readonly TeamJson[];
  submitLabel: string;
  onSubmit: (value: LimitsFormValue) => Promise<void>;
  onCancel: () => void;
}) {
  const prefix = `${kind}-${initial?.id ?? 'new'}`;
  const [values, setValues] = useState<Record<string, string>>(() => ({
    name: initial?.name ?? '',
    team_id: (initial !== undefined && 'team_id' in initial ? initial.team_id : null) ?? '',
    models: initial?.models?.join(', ') ?? '',
    budget_period: initial?.budget_period === 'total' ? '' : (initial?.budget_period ?? ''),
    expires_at:
      initial !== undefined && 'expires_at' in initial && initial.expires_at !== null
        ? initial.expires_at.slice(0, 10)
        : '',
    ...Object.fromEntries(
      NUMBER_FIELDS.map((field) => [field.name, String(initial?.[field.name] ?? '')]),
    ),
  }));
  const [error, setError] = useState<ApiError | Error | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (name: string) => (event: Event) =>
    setValues({ ...values, [name]: (event.currentTarget as HTMLInputElement).value });

  const submit = async (event: Event) => {
    event.preventDefault();
    const numberOf = (name: string) => (values[name] === '' ? null : Number(values[name]));
    const models = (values.models ?? '')
      .split(',')
      .map((model) => model.trim())
      .filter((model) => model !== '');
    const value: LimitsFormValue = {
      name: values.name ?? '',
      models: models.length === 0 ? null : models,
      rpm_limit: numberOf('rpm_limit'),
      tpm_limit: numberOf('tpm_limit'),
      max_concurrent: numberOf('max_concurrent'),
      budget_usd: numberOf('budget_usd'),
      budget_tokens: numberOf('budget_tokens'),
      budget_period: (values.budget_period || null) as TeamJson['budget_period'],
    };
    if (kind === 'key') {
      value.team_id = values.team_id === '' ? null : (values.team_id ?? null);
      const expiry = values.expires_at ?? '';
      if (initial === undefined || expiry !== (initial as KeyJson).expires_at?.slice(0, 10)) {
        value.expires_at = expiry === '' ? null : `${expiry}T00:00:00Z`;
      }
    }
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit(value);
    } catch (failure) {
      setError(failure instanceof Error ? failure : new Error(String(failure)));
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (name: string) =>
    error instanceof ApiError && error.param?.replace(/\[\d+\]$/, '') === name ? (
      <p class="field-error" id={`${prefix}-${name}-error`}>
        {error.message}
      </p>
    ) : null;
  const described = (name: string) =>
    error instanceof ApiError && error.param?.replace(/\[\d+\]$/, '') === name
      ? `${prefix}-${name}-error`
      : undefined;

  return (
    <form class="card form" onSubmit={submit} aria-label={submitLabel}>
      <div class="form-grid">
        <div class="field field-wide">
          <label for={`${prefix}-name`}>Name</label>
          <input
            id={`${prefix}-name`}
            value={values.name}
            onInput={set('name')}
            required
            maxLength={200}
            aria-describedby={described('name')}
          />
          {fieldError('name')}
        </div>
        {kind === 'key' ? (
          <>
            <div class="field">
              <label for={`${prefix}-team`}>Team</label>
              <select id={`${prefix}-team`} value={values.team_id} onChange={set('team_id')}>
                <option value="">No team</option>
                {teams.map((team) => (
                  <option key={team.id} value={team.id}>
                    {team.name}
                  </option>
                ))}
              </select>
              {fieldError('team_id')}
            </div>
            <div class="field">
              <label for={`${prefix}-expires`}>Expires on (UTC)</label>
              <input
                id={`${prefix}-expires`}
                type="date"
                value={values.expires_at}
                onInput={set('expires_at')}
                aria-describedby={described('expires_at')}
              />
              {fieldError('expires_at')}
            </div>
          </>
        ) : null}
        <div class="field field-wide">
          <label for={`${prefix}-models`}>Models allowed</label>
          <input
            id={`${prefix}-models`}
            value={values.models}
            onInput={set('models')}
            placeholder="Any model"
            aria-describedby={`${prefix}-models-hint`}
          />
          <p class="hint" id={`${prefix}-models-hint`}>
            Comma-separated; empty allows every model.
          </p>
          {fieldError('models')}
        </div>
        {NUMBER_FIELDS.map((field) => (
          <div class="field" key={field.name}>
            <label for={`${prefix}-${field.name}`}>{field.label}</label>
            <input
              id={`${prefix}-${field.name}`}
              type="number"
              min="0"
              step={field.step}
              inputMode={field.step === '1' ? 'numeric' : 'decimal'}
              value={values[field.name]}
              onInput={set(field.name)}
              placeholder={field.hint}
              aria-describedby={described(field.name)}
            />
            {fieldError(field.name)}
          </div>
        ))}
        <div class="field">
          <label for={`${prefix}-period`}>Budget period</label>
          <select
            id={`${prefix}-period`}
            value={values.budget_period}
            onChange={set('budget_period')}
          >
            <option value="">Total (never resets)</option>
            <option value="day">Per day (UTC)</option>
            <option value="month">Per month (UTC)</option>
          </select>
        </div>
      </div>
      {error !== undefined && !(error instanceof ApiError && error.param !== null) ? (
        <p class="field-error" role="alert">
          {error.message}
        </p>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
        <button type="button" class="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
