import { existsSync } from 'node:fs';
import { appDepsFromSettings, buildApp } from './app.js';
import { ConfigError, loadSettings, settingsSecrets } from './config/settings.js';
import { createLogger } from './logging/logger.js';
import { createProviders } from './providers/registry.js';

/** The only impure entry: environment → settings → providers → app → listen; drain on SIGTERM. */
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let settings: ReturnType<typeof loadSettings>;
  try {
    settings = loadSettings(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const logger = createLogger({ level: settings.logLevel, secrets: settingsSecrets(settings) });
  const registry = createProviders(settings);
  const app = await buildApp(appDepsFromSettings(settings, registry.providers, logger));

  if (settings.developmentMode) {
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
    await registry.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ host: settings.host, port: settings.port });
}

main().catch((error: unknown) => {
  process.stderr.write(`ai-gateway failed to start: ${String(error)}\n`);
  process.exit(1);
});
