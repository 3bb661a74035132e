import { createLogger, type Logger } from '../../src/observability/logger';

export interface CapturedLog {
  /** Each line's message, in order. */
  lines: string[];
  /** Each line as parsed JSON, fields and all. */
  records: Array<Record<string, unknown> & { msg?: string; level: string }>;
  /** Each line exactly as written. */
  raw: string[];
  /** A real logger (same options as production: levels, redaction, masking) writing here. */
  log: Logger;
}

export function captureLog(level = 'debug'): CapturedLog {
  const captured: CapturedLog = { lines: [], records: [], raw: [], log: undefined as unknown as Logger };
  captured.log = createLogger(
    { level, format: 'json' },
    {
      destination: {
        write(line: string) {
          captured.raw.push(line);
          const record = JSON.parse(line) as CapturedLog['records'][number];
          captured.records.push(record);
          captured.lines.push(record.msg ?? '');
        },
      },
    },
  );
  return captured;
}
