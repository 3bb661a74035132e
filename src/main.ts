import 'reflect-metadata';
import { startApp } from './app';
import { ConfigError, loadConfig } from './config/config';
import { isValidCidr } from './delivery/ssrf';
import { createLogger, maskSecretsIn, resolveLogFormat } from './observability/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, isValidCidr);
  } catch (error) {
    if (error instanceof ConfigError) {
      // No logger yet (its settings are part of what failed to load): plain text on stderr.
      console.error(`Configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // Decided here, where stdout is known: a terminal gets readable lines, a pipe gets JSON.
  config.log.format = resolveLogFormat(config.log.format, Boolean(process.stdout.isTTY));
  const log = createLogger({ level: config.log.level, format: config.log.format });
  // Before the app starts, so everything it does is traced. Without an endpoint no SDK module is even loaded.
  if (config.tracing) (require('./observability/tracing-sdk') as typeof import('./observability/tracing-sdk')).startTracing(config.tracing, log);
  // Handlers first: a signal that arrives while starting still stops everything started so far
  // (the embedded PostgreSQL included) instead of killing the process half-way.
  const starting = startApp(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal}: shutting down`);
    starting
      .then((app) => app.stop())
      // The last spans, buffered for the next batch, are sent before the process ends.
      .then(() => config.tracing && (require('./observability/tracing-sdk') as typeof import('./observability/tracing-sdk')).stopTracing())
      .then(
        () => process.exit(0),
        (error) => {
          log.fatal({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await starting;
}

main().catch((error) => {
  // Plain text on stderr, masked: a driver's message may quote the DATABASE_URL.
  console.error('start failed:', maskSecretsIn(error instanceof Error ? error.message : String(error)));
  process.exit(1);
});
