/**
 * The admin API as the console calls it: with the session cookie (the browser sends it), the
 * session's CSRF token on every change, and the gateway's error envelope turned into an
 * `ApiError`. The shapes are the server's own (`src/admin/admin-json.ts`), imported as types.
 */
import type {
  CreatedKeyJson,
  DeploymentJson,
  KeyJson,
  LatencyGroupJson,
  LimitStateJson,
  ProviderJson,
  RequestJson,
  StatsJson,
  TeamJson,
  UsageGroupJson,
} from '../../src/admin/admin-json.js';
import type { SessionJson } from '../../src/console/console-routes.js';

export type {
  CreatedKeyJson,
  DeploymentJson,
  KeyJson,
  LatencyGroupJson,
  LimitStateJson,
  ProviderJson,
  RequestJson,
  StatsJson,
  TeamJson,
  UsageGroupJson,
};

/** An error the gateway answered with (or a network failure, status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;

  constructor(status: number, message: string, code: string | null, param: string | null) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** The fields of a team or key that a form sends; null clears. */
export type LimitsInput = Partial<
  Pick<
    TeamJson,
    | 'models'
    | 'rpm_limit'
    | 'tpm_limit'
    | 'max_concurrent'
    | 'budget_usd'
    | 'budget_tokens'
    | 'budget_period'
  >
>;

let csrfToken: string | undefined;
/** Told when a call finds the session gone, so the page can ask to log in again. */
let onSessionEnded: () => void = () => undefined;

/** Sets what happens when the session ends under a call. */
export function whenSessionEnds(listener: () => void): void {
  onSessionEnded = listener;
}

async function call<Body>(method: string, path: string, body?: unknown): Promise<Body> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'The gateway cannot be reached. Check that it is running.', null, null);
  }
  if (response.status === 204) return undefined as Body;
  const text = await response.text();
  const json: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const error = (json as { error?: { message?: string; code?: string; param?: string } })?.error;
    if (response.status === 401 && !path.startsWith('/ui/api/session')) onSessionEnded();
    throw new ApiError(
      response.status,
      error?.message ?? `The gateway answered ${response.status}.`,
      error?.code ?? null,
      error?.param ?? null,
    );
  }
  return json as Body;
}

/** A query string of the values given (undefined and empty ones left out). */
function query(values: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/** The console's calls, one per route. */
export const api = {
  /** The current session, or an ApiError 401. */
  async session(): Promise<SessionJson> {
    const session = await call<SessionJson>('GET', '/ui/api/session');
    csrfToken = session.csrf_token;
    return session;
  },
  async login(key: string): Promise<SessionJson> {
    const session = await call<SessionJson>('POST', '/ui/api/session', { key });
    csrfToken = session.csrf_token;
    return session;
  },
  async logout(): Promise<void> {
    await call<void>('DELETE', '/ui/api/session');
    csrfToken = undefined;
  },
  teams: () => call<{ data: TeamJson[] }>('GET', '/admin/v1/teams'),
  createTeam: (team: LimitsInput & { name: string }) =>
    call<TeamJson>('POST', '/admin/v1/teams', team),
  updateTeam: (id: string, patch: LimitsInput & { name?: string }) =>
    call<TeamJson>('PATCH', `/admin/v1/teams/${encodeURIComponent(id)}`, patch),
  deleteTeam: (id: string) => call<void>('DELETE', `/admin/v1/teams/${encodeURIComponent(id)}`),
  keys: () => call<{ data: KeyJson[] }>('GET', '/admin/v1/keys'),
  createKey: (
    key: LimitsInput & { name: string; team_id?: string | null; expires_at?: string | null },
  ) => call<CreatedKeyJson>('POST', '/admin/v1/keys', key),
  updateKey: (id: string, patch: LimitsInput & { name?: string; team_id?: string | null }) =>
    call<KeyJson>('PATCH', `/admin/v1/keys/${encodeURIComponent(id)}`, patch),
  revokeKey: (id: string) => call<void>('DELETE', `/admin/v1/keys/${encodeURIComponent(id)}`),
  limits: () => call<{ data: LimitStateJson[] }>('GET', '/admin/v1/limits'),
  usage: (groupBy: string, from?: string, to?: string) =>
    call<{ data: UsageGroupJson[] }>(
      'GET',
      `/admin/v1/usage${query({ group_by: groupBy, from, to })}`,
    ),
  stats: (from: string, to: string) =>
    call<StatsJson>('GET', `/admin/v1/stats${query({ from, to })}`),
  requests: (filters: Record<string, string | number | undefined>) =>
    call<{ data: RequestJson[]; has_more: boolean }>('GET', `/admin/v1/requests${query(filters)}`),
  providers: () => call<{ data: ProviderJson[] }>('GET', '/admin/v1/providers'),
};
