import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { maskSecret } from '../common/mask';

/**
 * The process's operational log: one JSON object per line on stdout (or a readable rendering
 * of the same in a terminal). Lines carry their context as fields (requestId, deliveryId,
 * webhookId, eventId…), so a log store can filter on them; the message stays short text.
 *
 * Nothing secret may reach a line. Two layers: `redact` blanks the fields whose name says
 * they are secret, whatever their value; and every string that goes out (message, fields,
 * error messages and stacks) is scanned for what a secret of ours looks like (an API token,
 * a signing secret, a URL's password) and masked. Secret header values have no shape to
 * scan for: they are never given to the logger, and the delivery tests check it.
 */

export type { Logger };

export type LogFormat = 'json' | 'pretty';

export interface LogSettings {
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  level: string;
  format: LogFormat;
  /** Colours in the pretty format; by default when stdout is a terminal (the delivery thread is told: its own stdout is no terminal). */
  colorize?: boolean;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Fields blanked whatever their value, at any of these places in a line. */
const SECRET_KEYS = ['authorization', 'cookie', 'token', 'signingSecret', 'previousSigningSecret', 'secret', 'password', 'databaseUrl'];
const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers[*].value',
];

// API tokens (cms_ + 43 base64url) and signing secrets (whsec_ + base64), also when quoted or
// embedded in a longer string; and user:password@ in any URL.
const TOKEN = /\b(?:cms|whsec)_[A-Za-z0-9+/_=-]{8,}/g;
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]*)@/gi;

/** `text` with every token-shaped substring and URL password masked. */
export function maskSecretsIn(text: string): string {
  if (!text.includes('_') && !text.includes('@')) return text;
  return text.replace(TOKEN, (token) => `${token.slice(0, token.indexOf('_') + 1)}${maskSecret(token)}`).replace(URL_PASSWORD, '$1:****@');
}

/** A copy of `value` with every string masked; shared structure is fine, cycles are cut. */
export function maskDeep(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return maskSecretsIn(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, seen));
  if (value instanceof Error) {
    // Name, message, stack and code only: a driver's error carries the statement's parameters
    // (a webhook's secrets, a whole body), which have no place in a log line.
    const { code, driverError, cause } = value as Error & { code?: unknown; driverError?: { code?: unknown }; cause?: unknown };
    return {
      type: value.name,
      message: maskSecretsIn(value.message),
      stack: value.stack ? maskSecretsIn(value.stack) : undefined,
      code: typeof code === 'string' ? code : typeof driverError?.code === 'string' ? driverError.code : undefined,
      cause: cause === undefined ? undefined : maskDeep(cause, seen),
    };
  }
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) copy[key] = maskDeep(field, seen);
  return copy;
}

export function loggerOptions(settings: Pick<LogSettings, 'level'>, base: Record<string, unknown> = {}): LoggerOptions {
  return {
    level: settings.level,
    base: { pid: process.pid, ...base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // "level":"info" rather than 30: readable, and what most log stores expect.
      level: (label) => ({ level: label }),
    },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: { err: (error: unknown) => maskDeep(error) },
    hooks: {
      // The safety net: every argument of every call (message, fields, format arguments).
      logMethod(args, method) {
        const first = args[0] as unknown;
        if (typeof first === 'object' && first !== null && (first as Record<symbol, unknown>)[REVEAL] === true && typeof args[1] === 'string') {
          return method.apply(this, [{ credential: true }, args[1]] as Parameters<typeof method>);
        }
        method.apply(this, args.map((arg) => maskDeep(arg)) as Parameters<typeof method>);
      },
    },
  };
}

/**
 * The logger of this process (or of the delivery thread, which builds its own with the same
 * settings: one format, one redaction, written to the same stdout). `destination` is for
 * tests; otherwise stdout, rendered by pino-pretty in-process when the format is pretty (no
 * transport thread).
 */
export function createLogger(settings: LogSettings, options: { destination?: DestinationStream; base?: Record<string, unknown> } = {}): Logger {
  const destination =
    options.destination ??
    (settings.format === 'pretty'
      ? // Loaded only when asked for: JSON output never pays for it.
        (require('pino-pretty') as typeof import('pino-pretty'))({
          colorize: settings.colorize ?? Boolean(process.stdout.isTTY),
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
          singleLine: true,
          sync: true,
        })
      : pino.destination({ dest: 1, sync: true }));
  return guardChildren(pino(loggerOptions(settings, options.base), destination));
}

/** A child's bindings are written as given (no hook sees them): they are masked on the way in. */
function guardChildren(logger: Logger): Logger {
  const child = logger.child.bind(logger);
  logger.child = ((bindings: pino.Bindings, childOptions?: pino.ChildLoggerOptions) => guardChildren(child(maskDeep(bindings) as pino.Bindings, childOptions))) as unknown as Logger['child'];
  return logger;
}

const REVEAL = Symbol('reveal');

/**
 * The one line that may carry a credential: the bootstrap super-admin's token, printed once on
 * the first start of an empty database so whoever started it can sign in (only its hash is
 * stored). A message of its own, at warn so LOG_LEVEL=warn still shows it, marked
 * `"credential":true` so a log pipeline can drop or route it; the masking is skipped for
 * this message only, and every other line still masks the same token.
 */
export function printOnce(log: Logger, message: string): void {
  log.warn({ [REVEAL]: true } as object, message);
}

/** A logger that drops everything: for tests and tools that have nothing to say. */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Resolves LOG_FORMAT's default: readable in a terminal, JSON anywhere else. */
export function resolveLogFormat(configured: LogFormat | undefined, stdoutIsTty: boolean): LogFormat {
  return configured ?? (stdoutIsTty ? 'pretty' : 'json');
}

// The request a line belongs to, without threading a logger through every service call.
const requestLog = new AsyncLocalStorage<Logger>();

export function withRequestLogger<T>(logger: Logger, fn: () => T): T {
  return requestLog.run(logger, fn);
}

/** The current request's logger (carrying its requestId), or `fallback` outside a request. */
export function currentLogger(fallback: Logger): Logger {
  return requestLog.getStore() ?? fallback;
}

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** An incoming x-request-id worth keeping: short, printable, no spaces (it is echoed in a header and logged). */
export function saneRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : undefined;
}
