import net from 'node:net';
import path from 'node:path';
import { LOG_LEVELS, type LogFormat } from '../observability/logger';

/**
 * Every environment variable the product reads is parsed here, once, at start.
 * A bad value stops the start with a message naming the variable and what it expected,
 * rather than surfacing later as a confusing runtime failure.
 */
export type ProcessRole = 'api' | 'worker' | 'all';

/** What one GraphQL operation may ask for (src/graphql/query-limits.ts enforces them). */
export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** A list costs its `first` (or an assumed size) times its fields; see README "Limits". */
  maxCost: number;
}

export interface WebSocketLimits {
  maxPayloadBytes: number;
  /** A socket that has not sent connection_init by then is closed with 4408. */
  initTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export interface Config {
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  bootstrapAdminToken: string | undefined;
  role: ProcessRole;
  /** With ROLE=all, run the delivery worker on its own thread (own event loop), so API work cannot starve it. */
  deliveryThread: boolean;
  graphqlLimits: QueryLimits;
  websocket: WebSocketLimits;
  /** PostgreSQL statement_timeout of every pooled connection; 0 = none. Migrations run without it. */
  statementTimeoutMs: number;
  /** The metrics and probes listener (/metrics, /livez, /readyz); null = none, and nothing recorded. */
  metrics: { port: number; host: string } | null;
  log: {
    level: string;
    /** Unset: pretty when stdout is a terminal, JSON otherwise (decided in main.ts, which sees stdout). */
    format: LogFormat | undefined;
  };
  /** OpenTelemetry tracing; null = off, and no SDK module is loaded. */
  tracing: { endpoint: string; serviceName: string } | null;
  webhook: {
    allowedCidrs: string[];
    timeoutMs: number;
    retryScheduleMs: number[];
    concurrency: number;
    perWebhookConcurrency: number;
    pollIntervalMs: number;
    shutdownGraceMs: number;
    /** A claimed delivery's lease is the timeout plus this; a dead worker's deliveries wait that long. */
    leaseMarginMs: number;
    /** Disable a webhook whose calls have all failed for this long; null = never. */
    autoDisableAfterMs: number | null;
    /** Log rows, finished deliveries and dispatched events older than this are deleted; null = kept for ever. */
    logRetentionMs: number | null;
    /** An event more deliveries deep than this in a chain of webhook-caused changes goes to no webhook. */
    maxCausalDepth: number;
    /** When a webhook counts as failing and when its disable warning goes out (src/health). */
    health: HealthRules;
  };
}

/** The thresholds of a webhook's health state (README "Failure notifications"). */
export interface HealthRules {
  /** FAILING after this many consecutive failed calls. */
  failingAfter: number;
  /** FAILING when at least this percentage of the last hour's calls failed; 0 = rule off. */
  failingRatePercent: number;
  /** ...and the last hour holds at least this many calls. */
  failingRateMinCalls: number;
  /** DISABLE_WARNING this long before auto-disable may strike. */
  disableWarningBeforeMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
    got: string,
  ) {
    super(`${variable}: expected ${expected}, got ${JSON.stringify(got)}`);
    this.name = 'ConfigError';
  }
}

const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h';
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "5s" -> 5000. Returns undefined for anything that is not a non-negative number with a unit. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * DURATION_UNITS[match[2]]);
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

function retrySchedule(env: NodeJS.ProcessEnv): number[] {
  const raw = env.WEBHOOK_RETRY_SCHEDULE ?? '';
  const text = raw.trim() === '' ? DEFAULT_RETRY_SCHEDULE : raw;
  const delays = text.split(',').map((part) => parseDuration(part));
  if (delays.some((d) => d === undefined)) {
    throw new ConfigError(
      'WEBHOOK_RETRY_SCHEDULE',
      'comma-separated delays, each a number with ms, s, m or h (e.g. "5s,5m,30m")',
      raw,
    );
  }
  return delays as number[];
}

function cidrs(env: NodeJS.ProcessEnv, validate: (cidr: string) => boolean): string[] {
  const raw = env.WEBHOOK_ALLOWED_CIDRS ?? '';
  const list = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const cidr of list) {
    if (!validate(cidr)) {
      throw new ConfigError('WEBHOOK_ALLOWED_CIDRS', 'comma-separated CIDRs such as 127.0.0.0/8 or ::1/128', raw);
    }
  }
  return list;
}

function autoDisable(env: NodeJS.ProcessEnv): number | null {
  const raw = (env.WEBHOOK_AUTO_DISABLE_AFTER ?? '').trim();
  if (raw === '') return 5 * 24 * 3_600_000;
  if (raw === 'never') return null;
  const ms = parseDuration(raw);
  // As short as a second is allowed: it only decides when an endpoint that fails every call is
  // paused, which an operator undoes by enabling it again; tests drive the whole cycle with it.
  if (ms === undefined || ms < 1_000) {
    throw new ConfigError('WEBHOOK_AUTO_DISABLE_AFTER', 'a duration of at least 1s such as 120h, or "never"', raw);
  }
  return ms;
}

const DAY_MS = 24 * 3_600_000;
/** recoverWebhook reaches back 14 days: the deliveries it re-queues must still exist. */
const MIN_RETENTION_MS = 14 * DAY_MS;

function logRetention(env: NodeJS.ProcessEnv, autoDisableAfterMs: number | null): number | null {
  const raw = (env.WEBHOOK_LOG_RETENTION ?? '').trim();
  if (raw === 'never') return null;
  const ms = raw === '' ? 90 * DAY_MS : parseDuration(raw);
  if (ms === undefined || ms < MIN_RETENTION_MS) {
    throw new ConfigError('WEBHOOK_LOG_RETENTION', 'a duration of at least 336h (14 days, what recoverWebhook reaches back) such as 2160h, or "never"', raw);
  }
  // Auto-disable looks for the first failure in the window; deleted rows would hide it.
  if (autoDisableAfterMs !== null && autoDisableAfterMs > ms) {
    throw new ConfigError('WEBHOOK_LOG_RETENTION', `at least WEBHOOK_AUTO_DISABLE_AFTER (${env.WEBHOOK_AUTO_DISABLE_AFTER?.trim()})`, raw);
  }
  return ms;
}

function health(env: NodeJS.ProcessEnv): HealthRules {
  const raw = (env.WEBHOOK_DISABLE_WARNING_BEFORE ?? '').trim();
  const warning = raw === '' ? DAY_MS : parseDuration(raw);
  if (warning === undefined) throw new ConfigError('WEBHOOK_DISABLE_WARNING_BEFORE', 'a duration such as 24h', raw);
  return {
    failingAfter: integer(env, 'WEBHOOK_FAILING_AFTER', 5, 1, 1_000_000),
    failingRatePercent: integer(env, 'WEBHOOK_FAILING_RATE', 50, 0, 100),
    failingRateMinCalls: integer(env, 'WEBHOOK_FAILING_RATE_MIN_CALLS', 20, 1, 1_000_000),
    disableWarningBeforeMs: warning,
  };
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, 'on or off', raw);
}

function role(env: NodeJS.ProcessEnv): ProcessRole {
  const raw = env.ROLE ?? '';
  if (raw === '') return 'all';
  if (raw === 'api' || raw === 'worker' || raw === 'all') return raw;
  throw new ConfigError('ROLE', 'one of api, worker, all', raw);
}

function databaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('DATABASE_URL', 'a postgres:// URL', '<unparseable URL>');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    // The URL may carry a password: name only the scheme.
    throw new ConfigError('DATABASE_URL', 'a postgres:// or postgresql:// URL', `${url.protocol}//…`);
  }
  return raw;
}

/** METRICS_PORT unset: no listener. Its host defaults to loopback: metrics are for the operator's scraper, not the world. */
function metrics(env: NodeJS.ProcessEnv): Config['metrics'] {
  const host = (env.METRICS_HOST ?? '').trim();
  if (host !== '' && net.isIP(host) === 0 && !/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(host)) {
    throw new ConfigError('METRICS_HOST', 'an IP address or host name to bind, such as 127.0.0.1 or 0.0.0.0', host);
  }
  if ((env.METRICS_PORT ?? '').trim() === '') return null;
  return { port: integer(env, 'METRICS_PORT', 0, 0, 65535), host: host === '' ? '127.0.0.1' : host };
}

function logSettings(env: NodeJS.ProcessEnv): Config['log'] {
  const level = (env.LOG_LEVEL ?? '').trim().toLowerCase();
  if (level !== '' && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError('LOG_LEVEL', LOG_LEVELS.join(', '), env.LOG_LEVEL ?? '');
  }
  const format = (env.LOG_FORMAT ?? '').trim().toLowerCase();
  if (format !== '' && format !== 'json' && format !== 'pretty') throw new ConfigError('LOG_FORMAT', 'json or pretty', env.LOG_FORMAT ?? '');
  return { level: level || 'info', format: (format || undefined) as LogFormat | undefined };
}

function tracing(env: NodeJS.ProcessEnv): Config['tracing'] {
  const raw = (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? '').trim();
  if (raw === '') return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'an http:// or https:// URL such as http://localhost:4318', '<unparseable URL>');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'an http:// or https:// URL (OTLP over HTTP)', `${url.protocol}//…`);
  }
  const serviceName = (env.OTEL_SERVICE_NAME ?? '').trim() || 'cms-webhooks';
  return { endpoint: raw.replace(/\/+$/, ''), serviceName };
}

export function loadConfig(env: NodeJS.ProcessEnv, isValidCidr: (cidr: string) => boolean): Config {
  const bootstrap = env.BOOTSTRAP_ADMIN_TOKEN;
  if (bootstrap !== undefined && bootstrap !== '' && !/^[\x21-\x7e]{16,512}$/.test(bootstrap)) {
    // It travels as "Authorization: Bearer <token>": no spaces or control characters.
    throw new ConfigError('BOOTSTRAP_ADMIN_TOKEN', '16 to 512 printable characters without spaces', '<hidden>');
  }
  const autoDisableAfterMs = autoDisable(env);
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    databaseUrl: databaseUrl(env),
    dataDir: path.resolve(env.DATA_DIR && env.DATA_DIR.trim() !== '' ? env.DATA_DIR : './.data'),
    bootstrapAdminToken: bootstrap === '' ? undefined : bootstrap,
    role: role(env),
    deliveryThread: onOff(env, 'DELIVERY_THREAD', true),
    graphqlLimits: {
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 1000),
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 30, 0, 100_000),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 2000, 100, 1_000_000),
      maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 50, 0, 100_000),
      maxCost: integer(env, 'GRAPHQL_MAX_COST', 10_000, 100, 100_000_000),
    },
    websocket: {
      maxPayloadBytes: integer(env, 'WS_MAX_PAYLOAD_BYTES', 256 * 1024, 4096, 100 * 1024 * 1024),
      initTimeoutMs: integer(env, 'WS_INIT_TIMEOUT_MS', 5_000, 10, 600_000),
      maxConnections: integer(env, 'WS_MAX_CONNECTIONS', 1000, 1, 1_000_000),
      maxConnectionsPerAddress: integer(env, 'WS_MAX_CONNECTIONS_PER_ADDRESS', 50, 1, 1_000_000),
    },
    statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 15_000, 0, 3_600_000),
    metrics: metrics(env),
    log: logSettings(env),
    tracing: tracing(env),
    webhook: {
      allowedCidrs: cidrs(env, isValidCidr),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 1, 600_000),
      retryScheduleMs: retrySchedule(env),
      concurrency: integer(env, 'WEBHOOK_CONCURRENCY', 32, 1, 1024),
      perWebhookConcurrency: integer(env, 'WEBHOOK_PER_ENDPOINT_CONCURRENCY', 4, 1, 256),
      pollIntervalMs: integer(env, 'WEBHOOK_POLL_INTERVAL_MS', 5_000, 10, 600_000),
      shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 15_000, 0, 600_000),
      leaseMarginMs: integer(env, 'WEBHOOK_LEASE_MARGIN_MS', 30_000, 100, 3_600_000),
      autoDisableAfterMs,
      logRetentionMs: logRetention(env, autoDisableAfterMs),
      maxCausalDepth: integer(env, 'WEBHOOK_MAX_CAUSAL_DEPTH', 3, 0, 100),
      health: health(env),
    },
  };
}
