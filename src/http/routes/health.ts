import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ChatProvider } from '../../providers/provider.js';

export interface HealthRoutesOptions {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  readonly defaultProvider: ChatProvider;
  /** How long one provider probe may take. */
  readonly timeoutMs: number;
  /** How long a probe result is reused, so /readyz cannot be used to flood upstreams. */
  readonly cacheMs: number;
  readonly now: () => number;
}

type ProviderStatus = 'ok' | 'unavailable';

/** The paths that need no API key. */
export const HEALTH_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz']);

/**
 * `/healthz`: the process is up (no upstream call). `/readyz`: each provider's reachability,
 * probed by listing its models with a short timeout and cached; 200 when the default provider
 * is reachable. The body names providers and their status only, no URLs or settings.
 */
export function healthRoutes(app: FastifyInstance, options: HealthRoutesOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  let cached: {
    readonly at: number;
    readonly result: Promise<Map<string, ProviderStatus>>;
  } | null = null;

  const probeAll = async (): Promise<Map<string, ProviderStatus>> => {
    const entries = await Promise.all(
      [...options.providers.values()].map(async (provider) => {
        const status = await probe(provider, options.timeoutMs, app);
        return [provider.id, status] as const;
      }),
    );
    return new Map(entries);
  };

  app.get('/readyz', async (_request, reply: FastifyReply) => {
    const now = options.now();
    if (cached === null || now - cached.at >= options.cacheMs) {
      cached = { at: now, result: probeAll() };
    }
    const statuses = await cached.result;
    const ready = statuses.get(options.defaultProvider.id) === 'ok';
    reply.code(ready ? 200 : 503);
    return {
      status: ready ? 'ready' : 'unavailable',
      providers: Object.fromEntries(statuses),
    };
  });
}

async function probe(
  provider: ChatProvider,
  timeoutMs: number,
  app: FastifyInstance,
): Promise<ProviderStatus> {
  try {
    await provider.listModels({
      signal: AbortSignal.timeout(timeoutMs),
      requestId: `readyz-${randomUUID()}`,
      logger: app.log,
    });
    return 'ok';
  } catch (error) {
    app.log.warn(
      { provider: provider.id, code: (error as { code?: unknown }).code },
      'readiness probe failed',
    );
    return 'unavailable';
  }
}
