import type { GatewayConfig } from '../config/gateway-config.js';
import type { Settings } from '../config/settings.js';

/** The one start-up log line: a readable message and the same facts as fields. */
export interface StartupSummary {
  readonly message: string;
  readonly fields: {
    readonly listen: string;
    readonly providers: readonly { name: string; kind: string; baseUrl: string }[];
    readonly defaultProvider: string;
    readonly routes: readonly string[];
    readonly models: readonly {
      name: string;
      aliases: readonly string[];
      deployments: readonly string[];
      fallbacks: readonly string[];
    }[];
    readonly optional: Readonly<Record<string, string>>;
  };
}

/**
 * What an operator wants to see once the gateway listens: where, in front of what (base URLs
 * without credentials, query or fragment: no secret can be in them), which routes and public
 * model names, and which optional parts are on.
 */
export function startupSummary(
  settings: Settings,
  config: GatewayConfig,
  listen: string,
  nativeApiProviders: readonly string[],
): StartupSummary {
  const providers = config.providers.map((provider) => ({
    name: provider.name,
    kind: provider.kind,
    baseUrl: withoutSecrets(provider.baseUrl),
  }));
  const routes = [
    '/v1/*',
    ...config.providers.map((provider) => `/${provider.name}/v1/*`),
    ...nativeApiProviders.map((name) => `/${name}/api/*`),
  ];
  const models = config.models.map((model) => ({
    name: model.name,
    aliases: model.aliases,
    deployments: model.deployments.map(
      (deployment) => `${deployment.provider}/${deployment.model}`,
    ),
    fallbacks: model.fallbacks,
  }));
  const optional: Record<string, string> = {
    auth: settings.developmentMode
      ? 'OFF (development mode)'
      : `${settings.apiKeys.length} static key(s)${settings.tenancy === undefined ? '' : ' and virtual keys'}`,
    tenancy: tenancyText(settings),
    metrics:
      settings.metrics === undefined
        ? 'off'
        : `http://${settings.metrics.host}:${settings.metrics.port}/metrics`,
    cors: settings.corsAllowedOrigins.length === 0 ? 'off' : settings.corsAllowedOrigins.join(' '),
    securityHeaders: settings.securityHeaders ? 'on' : 'off',
    ollamaManagement: settings.ollamaAllowManagement ? 'on' : 'off',
    workers: String(settings.workers),
    configFile: settings.configFile ?? 'none (environment only)',
  };
  const providerText = providers
    .map(
      (provider) =>
        `${provider.name} (${provider.kind}, ${provider.baseUrl}${provider.name === config.defaultProvider ? ', default' : ''})`,
    )
    .join(', ');
  const modelText =
    models.length === 0
      ? 'no public model names'
      : `models ${models.map((model) => [model.name, ...model.aliases].join('|')).join(', ')}`;
  const onText = Object.entries(optional)
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
  return {
    message: `ai-gateway on ${listen} in front of ${providerText}; ${modelText}; ${onText}`,
    fields: {
      listen,
      providers,
      defaultProvider: config.defaultProvider,
      routes,
      models,
      optional,
    },
  };
}

/** Where teams, keys and counters live (no credential), and whether the admin API is on. */
function tenancyText(settings: Settings): string {
  const tenancy = settings.tenancy;
  if (tenancy === undefined) return 'off';
  const database = tenancy.databaseUrl.startsWith('sqlite:')
    ? tenancy.databaseUrl
    : `postgres ${withoutSecrets(tenancy.databaseUrl)}`;
  const counters =
    tenancy.redisUrl === undefined
      ? 'counters in memory'
      : `counters in redis ${withoutSecrets(tenancy.redisUrl)}`;
  return `${database}, ${counters}, admin API ${tenancy.adminApiKey === undefined ? 'off' : 'on'}`;
}

/** The URL's origin and path: what identifies the upstream, never a credential in it. */
function withoutSecrets(url: string): string {
  try {
    const parsed = new URL(url);
    // Built from its parts: `origin` is "null" for schemes like postgres: and redis:.
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
