import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { isValidCidr } from '../../src/delivery/ssrf';

const load = (env: NodeJS.ProcessEnv) => loadConfig(env, isValidCidr);

/** The ConfigError `fn` throws (fails the test when it throws nothing, or something else). */
function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

describe('loadConfig defaults', () => {
  const config = load({});

  test('PORT 4000, DATA_DIR ./.data resolved to an absolute path, role all, no database URL, no bootstrap token', () => {
    expect(config.port).toBe(4000);
    expect(config.dataDir).toBe(path.resolve('./.data'));
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.role).toBe('all');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.bootstrapAdminToken).toBeUndefined();
  });

  test('webhook delivery: 5s,5m,30m,2h,5h,10h,10h in ms, a 10 s timeout, no private address allowed', () => {
    const s = 1000;
    const m = 60 * s;
    const h = 60 * m;
    expect(config.webhook.retryScheduleMs).toEqual([5 * s, 5 * m, 30 * m, 2 * h, 5 * h, 10 * h, 10 * h]);
    expect(config.webhook.retryScheduleMs).toHaveLength(7); // 8 attempts
    expect(config.webhook.timeoutMs).toBe(10_000);
    expect(config.webhook.allowedCidrs).toEqual([]);
  });

  test('empty values count as unset', () => {
    expect(load({ PORT: '', DATA_DIR: '', ROLE: '', WEBHOOK_TIMEOUT_MS: '', WEBHOOK_RETRY_SCHEDULE: '', DATABASE_URL: '', BOOTSTRAP_ADMIN_TOKEN: '' })).toEqual(config);
  });
});

describe('loadConfig with values', () => {
  test('every variable is read', () => {
    const config = load({
      PORT: '8080',
      DATA_DIR: 'var/cms',
      ROLE: 'worker',
      DATABASE_URL: 'postgres://cms:pw@db.example:5432/cms',
      BOOTSTRAP_ADMIN_TOKEN: 'x'.repeat(32),
      WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8, ::1/128',
      WEBHOOK_TIMEOUT_MS: '2500',
      WEBHOOK_RETRY_SCHEDULE: '50ms, 1.5s,2m,1h',
    });
    expect(config).toMatchObject({
      port: 8080,
      dataDir: path.resolve('var/cms'),
      role: 'worker',
      databaseUrl: 'postgres://cms:pw@db.example:5432/cms',
      bootstrapAdminToken: 'x'.repeat(32),
      webhook: { allowedCidrs: ['127.0.0.0/8', '::1/128'], timeoutMs: 2500, retryScheduleMs: [50, 1500, 120_000, 3_600_000] },
    });
  });

  test.each(['api', 'worker', 'all'])('ROLE=%s is accepted', (role) => {
    expect(load({ ROLE: role }).role).toBe(role);
  });

  test('WEBHOOK_AUTO_DISABLE_AFTER: five days by default, a duration, or never', () => {
    expect(load({}).webhook.autoDisableAfterMs).toBe(5 * 24 * 3_600_000);
    expect(load({ WEBHOOK_AUTO_DISABLE_AFTER: '48h' }).webhook.autoDisableAfterMs).toBe(48 * 3_600_000);
    expect(load({ WEBHOOK_AUTO_DISABLE_AFTER: 'never' }).webhook.autoDisableAfterMs).toBeNull();
    expect(load({ WEBHOOK_AUTO_DISABLE_AFTER: '2s' }).webhook.autoDisableAfterMs).toBe(2000);
  });

  test('WEBHOOK_LOG_RETENTION: 90 days by default, a duration of at least 14 days, or never', () => {
    expect(load({}).webhook.logRetentionMs).toBe(90 * 24 * 3_600_000);
    expect(load({ WEBHOOK_LOG_RETENTION: '336h' }).webhook.logRetentionMs).toBe(14 * 24 * 3_600_000);
    expect(load({ WEBHOOK_LOG_RETENTION: 'never' }).webhook.logRetentionMs).toBeNull();
  });

  test('health thresholds: 5 consecutive failures, 50% of at least 20 calls, a warning 24 hours ahead', () => {
    expect(load({}).webhook.health).toEqual({ failingAfter: 5, failingRatePercent: 50, failingRateMinCalls: 20, disableWarningBeforeMs: 24 * 3_600_000 });
    const set = load({ WEBHOOK_FAILING_AFTER: '3', WEBHOOK_FAILING_RATE: '0', WEBHOOK_FAILING_RATE_MIN_CALLS: '7', WEBHOOK_DISABLE_WARNING_BEFORE: '90m' });
    expect(set.webhook.health).toEqual({ failingAfter: 3, failingRatePercent: 0, failingRateMinCalls: 7, disableWarningBeforeMs: 90 * 60_000 });
  });

  test('WEBHOOK_LOG_RETENTION shorter than WEBHOOK_AUTO_DISABLE_AFTER is refused, naming both', () => {
    const error = configErrorOf(() => load({ WEBHOOK_LOG_RETENTION: '400h', WEBHOOK_AUTO_DISABLE_AFTER: '500h' }));
    expect(error.variable).toBe('WEBHOOK_LOG_RETENTION');
    expect(error.message).toContain('WEBHOOK_AUTO_DISABLE_AFTER (500h)');
    expect(load({ WEBHOOK_LOG_RETENTION: '400h', WEBHOOK_AUTO_DISABLE_AFTER: 'never' }).webhook.logRetentionMs).toBe(400 * 3_600_000);
  });

  test('WEBHOOK_MAX_CAUSAL_DEPTH: 3 by default, 0 to 100', () => {
    expect(load({}).webhook.maxCausalDepth).toBe(3);
    expect(load({ WEBHOOK_MAX_CAUSAL_DEPTH: '0' }).webhook.maxCausalDepth).toBe(0);
    expect(load({ WEBHOOK_MAX_CAUSAL_DEPTH: '10' }).webhook.maxCausalDepth).toBe(10);
  });

  test('postgresql:// is accepted as well as postgres://', () => {
    expect(load({ DATABASE_URL: 'postgresql://u@localhost/cms' }).databaseUrl).toBe('postgresql://u@localhost/cms');
  });
});

describe('logs and traces', () => {
  test('defaults: info, the format decided from stdout, no tracing', () => {
    expect(load({})).toMatchObject({ log: { level: 'info', format: undefined }, tracing: null });
  });

  test('LOG_LEVEL, LOG_FORMAT and the OTLP endpoint are read; a trailing slash is dropped', () => {
    const config = load({ LOG_LEVEL: 'Debug', LOG_FORMAT: 'pretty', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'cms-eu' });
    expect(config).toMatchObject({ log: { level: 'debug', format: 'pretty' }, tracing: { endpoint: 'http://collector:4318', serviceName: 'cms-eu' } });
    expect(load({ LOG_LEVEL: 'silent', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example' }).tracing).toEqual({ endpoint: 'https://otlp.example', serviceName: 'cms-webhooks' });
  });
});

describe('limits', () => {
  test('defaults: query limits, WebSocket limits, a 15 s statement timeout', () => {
    const config = load({});
    expect(config.graphqlLimits).toEqual({ maxDepth: 10, maxAliases: 30, maxTokens: 2000, maxDirectives: 50, maxCost: 10_000 });
    expect(config.websocket).toEqual({ maxPayloadBytes: 262_144, initTimeoutMs: 5000, maxConnections: 1000, maxConnectionsPerAddress: 50 });
    expect(config.statementTimeoutMs).toBe(15_000);
  });

  test('every limit is read from its variable', () => {
    const config = load({
      GRAPHQL_MAX_DEPTH: '12',
      GRAPHQL_MAX_ALIASES: '5',
      GRAPHQL_MAX_TOKENS: '4000',
      GRAPHQL_MAX_DIRECTIVES: '7',
      GRAPHQL_MAX_COST: '20000',
      WS_MAX_PAYLOAD_BYTES: '65536',
      WS_INIT_TIMEOUT_MS: '2000',
      WS_MAX_CONNECTIONS: '10',
      WS_MAX_CONNECTIONS_PER_ADDRESS: '3',
      DATABASE_STATEMENT_TIMEOUT_MS: '0',
    });
    expect(config.graphqlLimits).toEqual({ maxDepth: 12, maxAliases: 5, maxTokens: 4000, maxDirectives: 7, maxCost: 20_000 });
    expect(config.websocket).toEqual({ maxPayloadBytes: 65_536, initTimeoutMs: 2000, maxConnections: 10, maxConnectionsPerAddress: 3 });
    expect(config.statementTimeoutMs).toBe(0);
  });
});

describe('a bad value stops the start with a ConfigError naming the variable', () => {
  test.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['ROLE', 'boss'],
    ['WEBHOOK_TIMEOUT_MS', '0'],
    ['WEBHOOK_TIMEOUT_MS', '10s'],
    ['WEBHOOK_RETRY_SCHEDULE', '5x'],
    ['WEBHOOK_RETRY_SCHEDULE', '5s,,5m'],
    ['WEBHOOK_RETRY_SCHEDULE', '5'],
    ['WEBHOOK_ALLOWED_CIDRS', 'nope'],
    ['WEBHOOK_ALLOWED_CIDRS', '127.0.0.0/8,10.0.0.0/99'],
    ['DATABASE_URL', 'mysql://x'],
    ['DATABASE_URL', 'not a url'],
    ['BOOTSTRAP_ADMIN_TOKEN', 'short'],
    ['BOOTSTRAP_ADMIN_TOKEN', 'has a space in the middle'],
    ['WEBHOOK_LEASE_MARGIN_MS', '5'],
    ['WEBHOOK_AUTO_DISABLE_AFTER', '5d'],
    ['WEBHOOK_AUTO_DISABLE_AFTER', '500ms'],
    ['WEBHOOK_MAX_CAUSAL_DEPTH', '-1'],
    ['WEBHOOK_MAX_CAUSAL_DEPTH', '101'],
    ['WEBHOOK_MAX_CAUSAL_DEPTH', 'deep'],
    ['WEBHOOK_FAILING_AFTER', '0'],
    ['WEBHOOK_FAILING_RATE', '101'],
    ['WEBHOOK_FAILING_RATE_MIN_CALLS', '0'],
    ['WEBHOOK_DISABLE_WARNING_BEFORE', '1d'],
    ['WEBHOOK_LOG_RETENTION', '90d'],
    ['WEBHOOK_LOG_RETENTION', '24h'],
    ['WEBHOOK_LOG_RETENTION', 'forever'],
    ['GRAPHQL_MAX_DEPTH', '0'],
    ['GRAPHQL_MAX_ALIASES', 'many'],
    ['GRAPHQL_MAX_TOKENS', '10'],
    ['GRAPHQL_MAX_DIRECTIVES', '-1'],
    ['GRAPHQL_MAX_COST', '1e4'],
    ['WS_MAX_PAYLOAD_BYTES', '256k'],
    ['WS_MAX_PAYLOAD_BYTES', '1024'],
    ['WS_INIT_TIMEOUT_MS', '0'],
    ['WS_MAX_CONNECTIONS', '0'],
    ['WS_MAX_CONNECTIONS_PER_ADDRESS', '1.5'],
    ['DATABASE_STATEMENT_TIMEOUT_MS', '15s'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_FORMAT', 'text'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
  ])('%s=%p', (variable, value) => {
    const error = configErrorOf(() => load({ [variable]: value }));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
    expect(error.message).toMatch(/expected/);
  });

  test.each([
    'mysql://cms:Pa55w0rdSecret@db.example/cms',
    'http://cms:Pa55w0rdSecret@db.example/cms',
    'postgres://cms:Pa55w0rdSecret@db.example:notaport/cms',
    'postgres://cms:Pa55w0rdSecret@[db.example/cms',
  ])('a DATABASE_URL password never appears in the message (%s)', (url) => {
    const error = configErrorOf(() => load({ DATABASE_URL: url }));
    expect(error.variable).toBe('DATABASE_URL');
    expect(error.message).not.toContain('Pa55w0rdSecret');
    expect(error.stack ?? '').not.toContain('Pa55w0rdSecret');
  });

  test('a short BOOTSTRAP_ADMIN_TOKEN is not echoed either', () => {
    const error = configErrorOf(() => load({ BOOTSTRAP_ADMIN_TOKEN: 'tok3nSecr' }));
    expect(error.message).toContain('BOOTSTRAP_ADMIN_TOKEN');
    expect(error.message).not.toContain('tok3nSecr');
  });
});

describe('the built server with a bad environment', () => {
  const ROOT = path.join(__dirname, '..', '..');
  const MAIN = path.join(ROOT, 'dist', 'src', 'main.js');

  function runMain(env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string; ms: number }> {
    if (!fs.existsSync(MAIN)) throw new Error(`${path.relative(ROOT, MAIN)} is missing: run \`npm run build\` first (npm test does)`);
    const started = Date.now();
    // Only what node needs from the parent: the test's own DATABASE_URL etc. must not leak in.
    const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    return new Promise((resolve) => {
      execFile(process.execPath, [MAIN], { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
        const failure = error as (Error & { code?: number; signal?: string }) | null;
        resolve({ code: failure ? (failure.code ?? null) : 0, signal: failure?.signal ?? null, stdout, stderr, ms: Date.now() - started });
      });
    });
  }

  test('PORT=abc: exits non-zero within seconds, naming PORT on stderr', async () => {
    const result = await runMain({ PORT: 'abc' });
    expect(result.signal).toBeNull(); // it exited by itself, it was not killed by the timeout
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('PORT');
    expect(result.stdout).not.toMatch(/GraphQL on|embedded PostgreSQL/);
  });

  test('a bad DATABASE_URL: exits non-zero, names DATABASE_URL, never prints its password', async () => {
    const result = await runMain({ DATABASE_URL: 'mysql://cms:Pa55w0rdSecret@db.example/cms' });
    expect(result.signal).toBeNull();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr + result.stdout).not.toContain('Pa55w0rdSecret');
  });
});

describe('METRICS_PORT and METRICS_HOST', () => {
  test('unset: no metrics listener', () => {
    expect(load({}).metrics).toBeNull();
    expect(load({ METRICS_PORT: '', METRICS_HOST: '0.0.0.0' }).metrics).toBeNull();
  });

  test('a port listens on loopback unless a host is given', () => {
    expect(load({ METRICS_PORT: '9464' }).metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(load({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(load({ METRICS_PORT: '0', METRICS_HOST: '::1' }).metrics).toEqual({ port: 0, host: '::1' });
    expect(load({ METRICS_PORT: '9464', METRICS_HOST: 'metrics.internal' }).metrics).toEqual({ port: 9464, host: 'metrics.internal' });
  });

  test.each([
    ['METRICS_PORT', 'abc'],
    ['METRICS_PORT', '65536'],
    ['METRICS_PORT', '-1'],
    ['METRICS_HOST', 'http://0.0.0.0'],
    ['METRICS_HOST', '0.0.0.0:9464'],
    ['METRICS_HOST', 'a b'],
  ])('%s=%s', (variable, value) => {
    const error = configErrorOf(() => load({ METRICS_PORT: '9464', [variable]: value }));
    expect(error.variable).toBe(variable);
    expect(error.message).toContain(variable);
  });
});
