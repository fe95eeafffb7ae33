import type { FastifyInstance } from 'fastify';
import type { ConsoleSessions } from '../console/console-sessions.js';
import { ERROR_CODES } from '../errors/error-codes.js';
import { NotFoundError, StoreUnavailableError } from '../errors/gateway-error.js';
import type { DeploymentSnapshot } from '../routing/deployment-pool.js';
import type { TenancyStore } from '../store/tenancy-store.js';
import type { KeyDirectory } from '../tenancy/key-directory.js';
import { generateKeySecret, hashKeySecret, keyPrefixOf } from '../tenancy/key-secret.js';
import type { LimitCounters } from '../tenancy/limit-counters.js';
import { adminAuth } from './admin-auth.js';
import {
  invalidParameter,
  parseKeyListQuery,
  parseKeyPatch,
  parseNewKey,
  parseNewTeam,
  parseRequestQuery,
  parseTeamPatch,
  parseUsageQuery,
  withBudgetPeriod,
} from './admin-input.js';
import {
  type CreatedKeyJson,
  deploymentJson,
  type KeyJson,
  keyJson,
  type LimitStateJson,
  type ProviderJson,
  type RequestJson,
  requestJson,
  type StatsJson,
  type TeamJson,
  teamJson,
  type UsageGroupJson,
  usageGroupJson,
} from './admin-json.js';
import { ledgerStats, parseStatsQuery } from './ledger-stats.js';
import { limitStates } from './limit-states.js';

export interface AdminRoutesOptions {
  /** The only credential the admin API takes (`Authorization: Bearer`). */
  readonly adminApiKey: string;
  readonly store: TenancyStore;
  /** Told of every change, so this instance applies a revocation or a new limit at once. */
  readonly directory: Pick<KeyDirectory, 'reload'>;
  readonly now: () => number;
  /** The console's sessions, taken as credentials beside the key; absent, the key alone. */
  readonly sessions?: ConsoleSessions | undefined;
  /** The counters admission uses, read (never taken) by `GET /admin/v1/limits`. */
  readonly counters: Pick<LimitCounters, 'peek'>;
  /** The configured providers' ids, and the routed deployments as they stand now. */
  readonly providerIds: readonly string[];
  readonly deployments: () => readonly DeploymentSnapshot[];
}

interface ById {
  readonly Params: { readonly id: string };
}

/**
 * A store call whose failure (the database is down, or closed) is a 503, thrown or rejected. Only
 * the call goes inside: input is parsed before, so that a 400 is never taken for a 503.
 */
async function stored<Result>(call: () => Promise<Result>): Promise<Result> {
  try {
    return await call();
  } catch (error) {
    throw new StoreUnavailableError(error);
  }
}

function notFound(what: 'team' | 'key'): NotFoundError {
  return new NotFoundError(`No ${what} has this id.`, ERROR_CODES.RESOURCE_NOT_FOUND.code, null);
}

/**
 * A Fastify plugin: the admin API under `/admin/v1` (teams, virtual keys, usage and the request
 * ledger), authenticated by its own hook with the admin key alone. Input is checked by
 * `admin-input.ts` (400 naming the field), answers are shaped by `admin-json.ts`; an unknown id is
 * a 404 and a store that fails is a 503. After each change the key directory reloads what changed,
 * so this instance applies it at once (others do when they next poll the store).
 */
export async function adminRoutes(
  app: FastifyInstance,
  options: AdminRoutesOptions,
): Promise<void> {
  const { store, directory, now } = options;
  app.addHook(
    'onRequest',
    adminAuth({ adminApiKey: options.adminApiKey, sessions: options.sessions }),
  );

  /** A `team_id` given in a body must name a team that exists (null detaches a key). */
  const checkTeamId = async (teamId: string | null | undefined): Promise<void> => {
    if (typeof teamId !== 'string') return;
    if ((await stored(() => store.getTeam(teamId))) === undefined) {
      throw invalidParameter('team_id', "'team_id' names no team, or a deleted one.");
    }
  };

  app.post('/admin/v1/teams', async (request, reply): Promise<TeamJson> => {
    const input = withBudgetPeriod(parseNewTeam(request.body));
    const team = await stored(() => store.createTeam(input, now()));
    reply.code(201);
    return teamJson(team);
  });

  app.get('/admin/v1/teams', async (): Promise<{ data: TeamJson[] }> => {
    const teams = await stored(() => store.listTeams());
    return { data: teams.map(teamJson) };
  });

  app.get<ById>('/admin/v1/teams/:id', async (request): Promise<TeamJson> => {
    const team = await stored(() => store.getTeam(request.params.id));
    if (team === undefined) throw notFound('team');
    return teamJson(team);
  });

  app.patch<ById>('/admin/v1/teams/:id', async (request): Promise<TeamJson> => {
    const { id } = request.params;
    const patch = parseTeamPatch(request.body);
    const current = await stored(() => store.getTeam(id));
    if (current === undefined) throw notFound('team');
    const change = withBudgetPeriod(patch, current);
    const team = await stored(() => store.updateTeam(id, change, now()));
    if (team === undefined) throw notFound('team');
    await directory.reload({ keyIds: [], teamIds: [id] });
    return teamJson(team);
  });

  app.delete<ById>('/admin/v1/teams/:id', async (request, reply) => {
    const { id } = request.params;
    // The store revokes the team's keys in the same transaction.
    if (!(await stored(() => store.deleteTeam(id, now())))) throw notFound('team');
    await directory.reload({ keyIds: [], teamIds: [id] });
    return reply.code(204).send();
  });

  app.post('/admin/v1/keys', async (request, reply): Promise<CreatedKeyJson> => {
    const input = withBudgetPeriod(parseNewKey(request.body, now()));
    await checkTeamId(input.teamId);
    const secret = generateKeySecret();
    const key = await stored(() =>
      store.createKey(
        { ...input, keyHash: hashKeySecret(secret), keyPrefix: keyPrefixOf(secret) },
        now(),
      ),
    );
    // Said here as well as by the security headers (which can be turned off): the body holds a
    // secret that no cache may keep.
    reply.code(201).header('cache-control', 'no-store');
    return { ...keyJson(key), key: secret };
  });

  app.get('/admin/v1/keys', async (request): Promise<{ data: KeyJson[] }> => {
    const filter = parseKeyListQuery(request.query);
    const keys = await stored(() => store.listKeys(filter));
    return { data: keys.map(keyJson) };
  });

  app.get<ById>('/admin/v1/keys/:id', async (request): Promise<KeyJson> => {
    const key = await stored(() => store.getKey(request.params.id));
    if (key === undefined) throw notFound('key');
    return keyJson(key);
  });

  app.patch<ById>('/admin/v1/keys/:id', async (request): Promise<KeyJson> => {
    const { id } = request.params;
    const patch = parseKeyPatch(request.body, now());
    await checkTeamId(patch.teamId);
    const current = await stored(() => store.getKey(id));
    if (current === undefined) throw notFound('key');
    const change = withBudgetPeriod(patch, current);
    const key = await stored(() => store.updateKey(id, change, now()));
    if (key === undefined) throw notFound('key');
    await directory.reload({ keyIds: [id], teamIds: [] });
    return keyJson(key);
  });

  app.delete<ById>('/admin/v1/keys/:id', async (request, reply) => {
    const { id } = request.params;
    // Revoking twice is no error: the key keeps its first revocation time.
    if (!(await stored(() => store.revokeKey(id, now())))) throw notFound('key');
    await directory.reload({ keyIds: [id], teamIds: [] });
    return reply.code(204).send();
  });

  app.get('/admin/v1/usage', async (request): Promise<{ data: UsageGroupJson[] }> => {
    const query = parseUsageQuery(request.query);
    const groups = await stored(() => store.usage(query));
    return { data: groups.map(usageGroupJson) };
  });

  app.get(
    '/admin/v1/requests',
    async (request): Promise<{ data: RequestJson[]; has_more: boolean }> => {
      const query = parseRequestQuery(request.query);
      const page = await stored(() => store.requests(query));
      return { data: page.rows.map(requestJson), has_more: page.hasMore };
    },
  );

  app.get('/admin/v1/stats', async (request): Promise<StatsJson> => {
    const query = parseStatsQuery(request.query, now());
    return stored(() => ledgerStats(store, query));
  });

  app.get('/admin/v1/limits', async (request): Promise<{ data: LimitStateJson[] }> => {
    const filter = parseKeyListQuery(request.query);
    const data = await stored(() => limitStates(store, options.counters, filter, now()));
    return { data };
  });

  app.get('/admin/v1/providers', async (): Promise<{ data: ProviderJson[] }> => {
    const deployments = options.deployments();
    return {
      data: options.providerIds.map((id) => ({
        id,
        deployments: deployments
          .filter((deployment) => deployment.provider === id)
          .map(deploymentJson),
      })),
    };
  });
}
