import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ERROR_CODES } from '../../errors/error-codes.js';
import { NotFoundError } from '../../errors/gateway-error.js';
import { keyInfo } from '../../tenancy/key-info.js';
import type { LimitCounters } from '../../tenancy/limit-counters.js';

export interface KeyInfoRouteOptions {
  readonly counters: LimitCounters;
  readonly now: () => number;
}

/**
 * A Fastify plugin: `GET /v1/key`, a virtual key's own limits and budget, with that key as auth.
 * A static key has none to show: 404.
 */
export async function keyInfoRoutes(
  app: FastifyInstance,
  options: KeyInfoRouteOptions,
): Promise<void> {
  app.get('/v1/key', async (request: FastifyRequest) => {
    const tenant = request.gateway.principal?.tenant;
    if (tenant === undefined) {
      throw new NotFoundError(
        'Only a virtual key has limits and a budget to show; this is a static key.',
        ERROR_CODES.RESOURCE_NOT_FOUND.code,
        null,
      );
    }
    return keyInfo(options.counters, tenant, options.now());
  });
}
