import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { appDepsFromSettings, buildApp } from './app.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { gatewayConfigFromSettings } from './config/gateway-config-from-env.js';
import { ConfigError, loadSettings, type Settings } from './config/settings.js';
import { createLogger } from './logging/logger.js';
import { startupSummary } from './logging/startup-summary.js';
import { createProviders, nativeApiProviders, providerSecrets } from './providers/registry.js';

/** Delay before a crashed worker is replaced, so a worker that dies at start cannot spin. */
const RESPAWN_DELAY_MS = 1_000;

/**
 * The only impure entry: environment → settings → providers → app → listen; drain on SIGTERM.
 * With WORKERS > 1 this process only supervises that many workers, each a full gateway sharing
 * the port (Node cluster).
 */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let settings: Settings;
  let config: GatewayConfig;
  try {
    settings = loadSettings(process.env);
    config =
      settings.configFile === undefined
        ? gatewayConfigFromSettings(settings)
        : (await import('./config/config-file.js')).loadConfigFile(
            settings.configFile,
            process.env,
            { timeouts: settings.upstream },
          );
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const secrets = [...settings.apiKeys, ...providerSecrets(config), ...tenancySecrets(settings)];
  const logger = createLogger({ level: settings.logLevel, secrets });
  if (settings.workers > 1 && cluster.isPrimary) {
    logSummary(logger, settings, config, `http://${settings.host}:${settings.port}`);
    await supervise(settings, logger);
    return;
  }
  await serve(settings, config, logger);
}

/**
 * The metrics modules, loaded only when metrics are on: prom-client adds to start-up time and
 * heap (as `yaml` does, loaded only for a config file; docs/performance.md).
 */
async function loadMetrics() {
  const [gateway, clusterMetrics, server] = await Promise.all([
    import('./metrics/gateway-metrics.js'),
    import('./metrics/cluster-metrics.js'),
    import('./metrics/metrics-server.js'),
  ]);
  return { ...gateway, ...clusterMetrics, ...server };
}

async function serve(settings: Settings, config: GatewayConfig, logger: Logger): Promise<void> {
  const kit = settings.metrics === undefined ? undefined : await loadMetrics();
  const metrics = kit?.createGatewayMetrics();
  const registry = createProviders(config, {
    logger,
    ...(kit === undefined || metrics === undefined
      ? {}
      : {
          onStaleRepeat: (provider: string) =>
            metrics.upstreamAttempt(provider, kit.STALE_CONNECTION_OUTCOME),
        }),
  });
  const running =
    settings.tenancy === undefined
      ? undefined
      : await (await import('./tenancy/start-tenancy.js')).startTenancy(settings.tenancy, config, {
          logger,
          metrics,
        });
  const app = await buildApp({
    ...appDepsFromSettings(settings, config, registry.providers, logger),
    metrics,
    tenancy: running?.tenancy,
    admin:
      running === undefined || settings.tenancy?.adminApiKey === undefined
        ? undefined
        : { apiKey: settings.tenancy.adminApiKey, store: running.store },
  });
  // In a cluster the primary serves /metrics for all workers; a worker only records.
  if (kit !== undefined && metrics !== undefined && cluster.isWorker) kit.shareWithPrimary(metrics);
  const metricsServer =
    kit === undefined || metrics === undefined || settings.metrics === undefined || cluster.isWorker
      ? undefined
      : kit.createMetricsServer(metrics, {
          ...settings.metrics,
          onError: (error) => logger.error({ err: error }, 'metrics rendering failed'),
        });
  if (settings.developmentMode && cluster.isPrimary) {
    logger.warn(
      'DEVELOPMENT_MODE is on: API-key auth is DISABLED. Anyone who can reach this port can use it.',
    );
  }

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    const timer = setTimeout(() => {
      logger.error('drain timed out; exiting');
      process.exit(1);
    }, settings.shutdownTimeoutMs);
    timer.unref();
    await app.close();
    // The ledger rows of the requests just drained go to the database before the process ends.
    await running?.close(settings.shutdownTimeoutMs);
    await metricsServer?.close();
    await registry.close();
    logger.info('stopped');
    // Until a slow stdout reader has every line (bounded by the drain timer above).
    await flushLogs(logger);
    process.exit(0);
  };
  // `on`, not `once`: a service manager that signals the whole group (systemd's default) makes a
  // worker's SIGTERM arrive twice, directly and from the primary; the second must not kill the
  // drain. A second SIGINT (Ctrl-C again) still ends the process at once.
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Metrics first: a port clash stops start-up before the gateway takes traffic.
  if (metricsServer !== undefined && settings.metrics !== undefined) {
    const { port } = await metricsServer.listen();
    logger.info({ host: settings.metrics.host, port }, 'metrics listening on /metrics');
  }
  const address = await app.listen({ host: settings.host, port: settings.port });
  // In a cluster the primary logged it once for all workers.
  if (cluster.isPrimary) logSummary(logger, settings, config, address);
}

function logSummary(logger: Logger, settings: Settings, config: GatewayConfig, listen: string) {
  const summary = startupSummary(settings, config, listen, nativeApiProviders(config));
  logger.info(summary.fields, summary.message);
}

/** The primary of a cluster: forks the workers, replaces crashed ones, drains them on SIGTERM. */
async function supervise(settings: Settings, logger: Logger): Promise<void> {
  if (settings.developmentMode) {
    logger.warn(
      'DEVELOPMENT_MODE is on: API-key auth is DISABLED. Anyone who can reach this port can use it.',
    );
  }
  const kit = settings.metrics === undefined ? undefined : await loadMetrics();
  const metricsServer =
    kit === undefined || settings.metrics === undefined
      ? undefined
      : kit.createMetricsServer(kit.clusterMetricsSource(), {
          ...settings.metrics,
          onError: (error) => logger.error({ err: error }, 'metrics aggregation failed'),
        });
  if (metricsServer !== undefined && settings.metrics !== undefined) {
    const { port } = await metricsServer.listen();
    logger.info({ host: settings.metrics.host, port }, 'metrics of all workers on /metrics');
  }
  logger.info({ workers: settings.workers }, 'starting workers');
  let shuttingDown = false;
  const alive = new Set<number>();
  cluster.on('fork', (worker) => alive.add(worker.id));
  for (let index = 0; index < settings.workers; index++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    alive.delete(worker.id);
    if (shuttingDown) {
      if (alive.size === 0) {
        void (metricsServer?.close() ?? Promise.resolve())
          .then(() => flushLogs(logger))
          .then(() => process.exit(0));
      }
      return;
    }
    logger.error({ pid: worker.process.pid, code, signal }, 'worker died; replacing it');
    setTimeout(() => cluster.fork(), RESPAWN_DELAY_MS).unref();
  });
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: draining workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => {
      logger.error('workers did not drain in time; exiting');
      process.exit(1);
    }, settings.shutdownTimeoutMs + 1_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** The admin key and a database or Redis URL's password: redacted from every log line. */
function tenancySecrets(settings: Settings): string[] {
  const tenancy = settings.tenancy;
  if (tenancy === undefined) return [];
  const secrets = tenancy.adminApiKey === undefined ? [] : [tenancy.adminApiKey];
  for (const url of [tenancy.databaseUrl, tenancy.redisUrl]) {
    try {
      const password = url === undefined ? '' : decodeURIComponent(new URL(url).password);
      if (password !== '') secrets.push(password);
    } catch {
      // Not a URL with a password (sqlite:PATH).
    }
  }
  return secrets;
}

/** Resolves once the log destination handed every line to stdout's reader. */
function flushLogs(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

main().catch((error: unknown) => {
  process.stderr.write(`ai-gateway failed to start: ${String(error)}\n`);
  process.exit(1);
});
