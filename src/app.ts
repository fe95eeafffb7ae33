import cors from '@fastify/cors';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { pino } from 'pino';
import { adminRoutes } from './admin/admin-routes.js';
import {
  type CooldownPolicy,
  DEFAULT_COOLDOWN_POLICY,
  DEFAULT_RETRY_POLICY,
  type GatewayConfig,
  type ModelConfig,
  type RetryPolicy,
} from './config/gateway-config.js';
import type { Settings } from './config/settings.js';
import { CONSOLE_PATHS, consoleRoutes } from './console/console-routes.js';
import { createConsoleSessions } from './console/console-sessions.js';
import { defaultConsoleRoot, loadStaticFiles } from './console/static-files.js';
import { ERROR_CODES } from './errors/error-codes.js';
import { InvalidRequestError } from './errors/gateway-error.js';
import {
  clientErrorHandler,
  errorHandler,
  notFoundHandler,
  sendError,
} from './http/error-handler.js';
import { apiKeyAuth } from './http/hooks/api-key-auth.js';
import { bodyTimeout, discardUnreadBody } from './http/hooks/body-timeout.js';
import { nameGuard } from './http/hooks/name-guard.js';
import { beginRequest, requestContext } from './http/hooks/request-context.js';
import { generateRequestId } from './http/hooks/request-id.js';
import { SECURITY_HEADERS, securityHeaders } from './http/hooks/security-headers.js';
import { shutdownGuard } from './http/hooks/shutdown-guard.js';
import { admissionHooks } from './http/hooks/tenancy-admission.js';
import { registerJsonBodyParser } from './http/json-body-parser.js';
import { chatCompletionRoutes } from './http/routes/chat-completions.js';
import { embeddingsRoutes } from './http/routes/embeddings.js';
import { HEALTH_PATHS, healthRoutes } from './http/routes/health.js';
import { keyInfoRoutes } from './http/routes/key-info.js';
import { modelRoutes } from './http/routes/models.js';
import { ollamaPassthroughRoutes } from './http/routes/ollama-passthrough.js';
import { anthropicRoutes } from './inbound/anthropic/anthropic-routes.js';
import { responsesRoutes } from './inbound/responses/responses-routes.js';
import { accessLogObserver, createAccessLog } from './logging/access-log.js';
import { lazyChildLogger } from './logging/lazy-child-logger.js';
import type { GatewayMetrics } from './metrics/gateway-metrics.js';
import { metricsObserver } from './metrics/metrics-observer.js';
import { createModelListings } from './providers/model-listings.js';
import type { ChatProvider } from './providers/provider.js';
import { createDeploymentPool } from './routing/deployment-pool.js';
import { createModelRouter } from './routing/model-router.js';
import type { TenancyStore } from './store/tenancy-store.js';
import type { Tenancy } from './tenancy/tenancy.js';

/** Everything the app is built from. Only `providers` is required; the rest has safe defaults. */
export interface AppDeps {
  readonly providers: ReadonlyMap<string, ChatProvider>;
  /** Serves the unprefixed `/v1/...` routes; defaults to 'ollama', else the first provider. */
  readonly defaultProvider?: string;
  /** Allowed client keys. With none (and auth not disabled) every request but health is refused. */
  readonly apiKeys?: readonly string[];
  /** Development mode only: turns auth off. */
  readonly authDisabled?: boolean;
  /** Exact origins allowed by CORS; empty (the default) sends no CORS headers at all. */
  readonly corsAllowedOrigins?: readonly string[];
  readonly securityHeaders?: boolean;
  readonly bodyLimitBytes?: number;
  readonly logger?: FastifyBaseLogger;
  readonly readiness?: { readonly timeoutMs: number; readonly cacheMs: number };
  /** Prometheus metrics to record into (served by main.ts on its own listener). */
  readonly metrics?: GatewayMetrics | undefined;
  /** Public model names with their deployments, and the retry and cooldown policy. */
  readonly routing?: {
    readonly models: readonly ModelConfig[];
    readonly retry: RetryPolicy;
    readonly cooldown: CooldownPolicy;
  };
  /** Server-side limits on clients: headers (slowloris), whole request, idle keep-alive. */
  readonly serverTimeouts?: {
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
  };
  /** A request body that sends no byte for this long is cut with a 408 (default 10 s). */
  readonly bodyTimeoutMs?: number;
  /** A streaming client that takes no bytes for this long is dropped (default 60 s). */
  readonly streamWriteTimeoutMs?: number;
  /**
   * A stream of an API with keep-alive frames (Anthropic's `ping`) gets one after this much
   * silence (default 15 s).
   */
  readonly streamPingIntervalMs?: number;
  /** Relay Ollama's model management (`pull`, `push`, `create`, `copy`, `delete`). */
  readonly ollamaAllowManagement?: boolean;
  /** Jitter source for retry backoff (tests make it fixed). */
  readonly random?: () => number;
  /** Fetching and caching each provider's listing for the merged `/v1/models`. */
  readonly modelList?: { readonly timeoutMs: number; readonly cacheMs: number };
  readonly now?: () => number;
  /** Teams and virtual keys: their auth, admission, `GET /v1/key` and ledger. */
  readonly tenancy?: Tenancy | undefined;
  /**
   * The admin API (`/admin/v1`) and its console (`/ui/`), served only with `tenancy`; absent,
   * both are a 404. `consoleRoot` is the built console's folder (default: `dist/ui`).
   */
  readonly admin?:
    | { readonly apiKey: string; readonly store: TenancyStore; readonly consoleRoot?: string }
    | undefined;
}

/** The app's dependencies as the settings describe them (what main.ts and the e2e tests run). */
export function appDepsFromSettings(
  settings: Settings,
  config: GatewayConfig,
  providers: ReadonlyMap<string, ChatProvider>,
  logger: FastifyBaseLogger,
): AppDeps {
  return {
    providers,
    defaultProvider: config.defaultProvider,
    apiKeys: settings.apiKeys,
    authDisabled: settings.developmentMode,
    corsAllowedOrigins: settings.corsAllowedOrigins,
    securityHeaders: settings.securityHeaders,
    bodyLimitBytes: settings.bodyLimitBytes,
    logger,
    readiness: { timeoutMs: settings.readinessTimeoutMs, cacheMs: settings.readinessCacheMs },
    modelList: { timeoutMs: settings.modelListTimeoutMs, cacheMs: settings.modelListCacheMs },
    routing: { models: config.models, retry: config.retry, cooldown: config.cooldown },
    ollamaAllowManagement: settings.ollamaAllowManagement,
    streamWriteTimeoutMs: settings.streamWriteTimeoutMs,
    bodyTimeoutMs: settings.bodyTimeoutMs,
    serverTimeouts: {
      headersTimeoutMs: settings.headersTimeoutMs,
      requestTimeoutMs: settings.requestTimeoutMs,
      keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
    },
  };
}

/** Builds the gateway from injected dependencies. Reads no environment and opens no port. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const bodyLimit = deps.bodyLimitBytes ?? 10 * 1024 * 1024;
  const defaultId = deps.defaultProvider ?? (deps.providers.has('ollama') ? 'ollama' : undefined);
  const defaultProvider =
    defaultId === undefined ? deps.providers.values().next().value : deps.providers.get(defaultId);
  if (defaultProvider === undefined) {
    throw new Error(`The default provider '${defaultId ?? '(none)'}' is not configured.`);
  }

  const logger: FastifyBaseLogger = deps.logger ?? pino({ level: 'silent' });
  const timeouts = deps.serverTimeouts ?? {
    headersTimeoutMs: 30_000,
    requestTimeoutMs: 120_000,
    keepAliveTimeoutMs: 72_000,
  };
  const withSecurityHeaders = deps.securityHeaders ?? true;
  const bodyTimeoutMs = deps.bodyTimeoutMs ?? 10_000;
  const context = {
    observers: [
      accessLogObserver(createAccessLog(logger)),
      ...(deps.metrics === undefined ? [] : [metricsObserver(deps.metrics)]),
      ...(deps.tenancy === undefined ? [] : [deps.tenancy.recorder]),
    ],
    metrics: deps.metrics,
  };
  const app = Fastify({
    loggerInstance: logger,
    // Our own access line (request-context hook) replaces Fastify's two lines per request.
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    childLoggerFactory: lazyChildLogger,
    genReqId: generateRequestId,
    requestIdHeader: false,
    bodyLimit,
    // Our shutdown guard answers in the envelope instead of Fastify's own 503 body.
    return503OnClosing: false,
    // Requests Fastify rejects before any hook (a malformed URL) still get our headers and body.
    frameworkErrors: (_error, request, reply) => {
      beginRequest(request, reply, context);
      if (withSecurityHeaders) reply.headers(SECURITY_HEADERS);
      discardUnreadBody(request, reply, bodyTimeoutMs);
      sendError(
        request,
        reply,
        new InvalidRequestError('The request URL is malformed.', ERROR_CODES.INVALID_URL.code),
      );
    },
    clientErrorHandler: clientErrorHandler(withSecurityHeaders ? SECURITY_HEADERS : {}),
    // Server limits stated, not inherited: slow headers and bodies are cut (Node checks them on
    // an interval, set to a tenth of the headers timeout so the limit holds to within 10%); an
    // idle socket that waits on a long generation is not (upstream timeouts govern that).
    http: {
      headersTimeout: timeouts.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.floor(timeouts.headersTimeoutMs / 10)),
      maxHeaderSize: 16 * 1024,
    },
    connectionTimeout: 0,
    requestTimeout: timeouts.requestTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
    ajv: {
      // Reject wrong types instead of coercing them, and never strip unknown fields.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false },
    },
  });

  app.decorateRequest('gateway', undefined as never);
  registerJsonBodyParser(app);
  app.addHook('onRequest', requestContext(context));
  if (withSecurityHeaders) app.addHook('onRequest', securityHeaders());
  app.addHook('onRequest', shutdownGuard(app));
  const origins = deps.corsAllowedOrigins ?? [];
  if (origins.length > 0) {
    // Exact-match allowlist; preflights are answered here, before auth.
    await app.register(cors, {
      origin: [...origins],
      credentials: false,
      exposedHeaders: ['x-request-id', 'retry-after', 'x-aigw-deployment'],
      maxAge: 600,
    });
  }
  app.addHook(
    'onRequest',
    apiKeyAuth({
      apiKeys: deps.apiKeys ?? [],
      disabled: deps.authDisabled ?? false,
      // The console's page and login authenticate on their own (the admin key, or its session).
      publicPaths:
        deps.admin === undefined ? HEALTH_PATHS : new Set([...HEALTH_PATHS, ...CONSOLE_PATHS]),
      ...(deps.tenancy === undefined ? {} : { directory: deps.tenancy.directory }),
      ...(deps.now === undefined ? {} : { now: deps.now }),
    }),
  );

  // preParsing runs after every onRequest hook; a request refused there (no key) is answered
  // before its body is read, and the error handler puts the same limit on what is left of it.
  app.addHook('preParsing', bodyTimeout(bodyTimeoutMs));

  // The native API routes that ollamaPassthroughRoutes registers, one per provider that has one.
  const nativeRoutes = new Set(
    [...deps.providers.values()]
      .filter((provider) => provider.passthrough !== undefined)
      .map((provider) => `/${provider.id}/api/*`),
  );
  app.addHook('preValidation', nameGuard({ nativeRoutes }));

  app.setErrorHandler(errorHandler(bodyLimit, bodyTimeoutMs));
  app.setNotFoundHandler(notFoundHandler);

  const now = deps.now ?? Date.now;
  const models = deps.routing?.models ?? [];
  const pool = createDeploymentPool({
    models,
    cooldown: deps.routing?.cooldown ?? DEFAULT_COOLDOWN_POLICY,
    now,
  });
  const router = createModelRouter({
    providers: deps.providers,
    defaultProvider,
    pool,
    retry: deps.routing?.retry ?? DEFAULT_RETRY_POLICY,
    now,
    random: deps.random ?? Math.random,
    ...(deps.metrics === undefined
      ? {}
      : {
          onAttempt: (provider: string, outcome: string) =>
            deps.metrics?.upstreamAttempt(provider, outcome),
        }),
  });
  const routeOptions = {
    providers: deps.providers,
    defaultProvider,
    router,
    metrics: deps.metrics,
    streamWriteTimeoutMs: deps.streamWriteTimeoutMs ?? 60_000,
    admission: deps.tenancy === undefined ? undefined : admissionHooks(deps.tenancy),
  };
  const listings = createModelListings({ now, logger: app.log });
  // Each API is an encapsulated plugin: the hooks, parsers and error handler above apply to all
  // of them, and an API with its own error body sets it within its plugin alone.
  await app.register(healthRoutes, {
    providers: deps.providers,
    defaultProvider,
    listings,
    probe: {
      timeoutMs: deps.readiness?.timeoutMs ?? 2_000,
      maxAgeMs: deps.readiness?.cacheMs ?? 5_000,
    },
  });
  await app.register(chatCompletionRoutes, routeOptions);
  await app.register(responsesRoutes, routeOptions);
  await app.register(anthropicRoutes, {
    ...routeOptions,
    pingIntervalMs: deps.streamPingIntervalMs,
  });
  await app.register(embeddingsRoutes, routeOptions);
  await app.register(ollamaPassthroughRoutes, {
    providers: deps.providers,
    allowManagement: deps.ollamaAllowManagement ?? false,
    admission: routeOptions.admission,
  });
  if (deps.tenancy !== undefined) {
    await app.register(keyInfoRoutes, { counters: deps.tenancy.counters, now });
    if (deps.admin !== undefined) {
      const sessions = createConsoleSessions({ adminApiKey: deps.admin.apiKey, now });
      await app.register(adminRoutes, {
        adminApiKey: deps.admin.apiKey,
        store: deps.admin.store,
        directory: deps.tenancy.directory,
        now,
        sessions,
        counters: deps.tenancy.counters,
        providerIds: [...deps.providers.keys()],
        deployments: () => pool.snapshot(),
      });
      await app.register(consoleRoutes, {
        adminApiKey: deps.admin.apiKey,
        sessions,
        files: loadStaticFiles(deps.admin.consoleRoot ?? defaultConsoleRoot()),
      });
    }
  }
  await app.register(modelRoutes, {
    ...routeOptions,
    listings,
    listing: {
      timeoutMs: deps.modelList?.timeoutMs ?? 5_000,
      maxAgeMs: deps.modelList?.cacheMs ?? 10_000,
    },
    publicNames: pool.publicNames().map((entry) => entry.id),
  });
  return app;
}
