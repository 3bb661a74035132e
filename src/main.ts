import 'reflect-metadata';
import { startApp } from './app';
import { ConfigError, loadConfig } from './config/config';
import { isValidCidr } from './delivery/ssrf';

function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, isValidCidr);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  // Handlers first: a signal that arrives while starting still stops everything started so far
  // (the embedded PostgreSQL included) instead of killing the process half-way.
  const starting = startApp(config, log);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    starting.then((app) => app.stop()).then(
      () => process.exit(0),
      (error) => {
        console.error('shutdown failed:', error instanceof Error ? error.message : error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await starting;
}

main().catch((error) => {
  console.error('start failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
