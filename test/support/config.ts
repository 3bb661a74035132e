import crypto from 'node:crypto';
import { Config, loadConfig } from '../../src/config/config';
import { isValidCidr } from '../../src/delivery/ssrf';

/**
 * The environment tests run the app with, in-process or as a child: receivers on loopback are
 * allowed, retries come milliseconds apart, and a send gives up after 2 s, so a failure is
 * seen within a test's time.
 */
export const TEST_ENV: Readonly<Record<string, string>> = {
  PORT: '0',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8,::1/128',
  WEBHOOK_RETRY_SCHEDULE: '50ms,100ms',
  WEBHOOK_TIMEOUT_MS: '2000',
  WEBHOOK_POLL_INTERVAL_MS: '200',
};

/** The app's configuration for tests, read through `loadConfig` as in production; `overrides` are more env. */
export function testConfig(databaseUrl: string | undefined, overrides: Partial<NodeJS.ProcessEnv> = {}): Config {
  return loadConfig(
    {
      DATABASE_URL: databaseUrl,
      BOOTSTRAP_ADMIN_TOKEN: overrides.BOOTSTRAP_ADMIN_TOKEN ?? `test-admin-${crypto.randomBytes(12).toString('hex')}`,
      ...TEST_ENV,
      ...overrides,
    },
    isValidCidr,
  );
}

/**
 * The delivery worker's settings for tests that start it by hand: the test environment's, with
 * the changes those tests are written against.
 */
export function testWebhookConfig(overrides: Partial<Config['webhook']> = {}): Config['webhook'] {
  return {
    ...testConfig(undefined).webhook,
    // A poll of a minute: whatever arrives promptly was woken by LISTEN or the retry timer.
    pollIntervalMs: 60_000,
    // Held replies stand for slow endpoints; they must not time out while a test holds them.
    timeoutMs: 10_000,
    // The pool the fairness and fan-out tests were written against (the app's default is 32).
    concurrency: 16,
    // stop() without an argument waits at most this long for sends in flight.
    shutdownGraceMs: 1_000,
    // Neither runs unless a test asks: webhooks stay enabled and log rows stay in place.
    autoDisableAfterMs: null,
    logRetentionMs: null,
    ...overrides,
  };
}
