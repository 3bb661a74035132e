import type { DataSource } from 'typeorm';

/**
 * The probes an orchestrator asks (Kubernetes' names):
 * - /livez: the process is alive. 200 whenever the event loop answers; a failing database does
 *   not make a process worth restarting, so nothing is checked.
 * - /readyz: send this process work. The database answers within a short timeout, every
 *   migration this build knows is applied (a newer build's start may be half-way), and the
 *   process is not shutting down. 503 names the checks that failed.
 * /healthz (server.ts) stays as it was, for whoever already watches it.
 */

export type CheckName = 'database' | 'migrations' | 'draining';

export interface Readiness {
  ready: boolean;
  /** 'ok', or why not (never an error's own text, which may name hosts). */
  checks: Record<CheckName, string>;
  failed: CheckName[];
}

export interface ReadinessSource {
  dataSource: DataSource;
  isDraining(): boolean;
  /** How long the database may take to answer; default 1 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 1_000;

function migrationNames(dataSource: DataSource): string[] {
  return dataSource.migrations.map((m) => m.name ?? m.constructor.name);
}

/** One round trip: reading the applied migrations proves the database answers, too. */
async function appliedMigrations(dataSource: DataSource, timeoutMs: number): Promise<Set<string> | 'timeout' | 'unavailable'> {
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const read = dataSource
    .query(`SELECT name FROM "${table.replace(/"/g, '""')}"`)
    .then((rows: Array<{ name: string }>) => new Set(rows.map((r) => r.name)))
    .catch(() => 'unavailable' as const);
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function checkReadiness(source: ReadinessSource): Promise<Readiness> {
  const timeoutMs = source.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const checks: Record<CheckName, string> = { database: 'ok', migrations: 'ok', draining: 'ok' };
  if (source.isDraining()) checks.draining = 'shutting down';
  if (!source.dataSource.isInitialized) {
    checks.database = 'closed';
    checks.migrations = 'unknown';
  } else {
    const applied = await appliedMigrations(source.dataSource, timeoutMs);
    if (applied === 'timeout') {
      checks.database = `no answer within ${timeoutMs} ms`;
      checks.migrations = 'unknown';
    } else if (applied === 'unavailable') {
      checks.database = 'unavailable';
      checks.migrations = 'unknown';
    } else {
      const pending = migrationNames(source.dataSource).filter((name) => !applied.has(name));
      if (pending.length > 0) checks.migrations = `pending: ${pending.join(', ')}`;
    }
  }
  // A check that could not run ('unknown') is not named as failed: what stopped it is.
  const failed = (Object.keys(checks) as CheckName[]).filter((name) => checks[name] !== 'ok' && checks[name] !== 'unknown');
  return { ready: failed.length === 0 && Object.values(checks).every((v) => v === 'ok'), checks, failed };
}

/** The JSON body and status both listeners answer /readyz with. */
export async function readyzResponse(source: ReadinessSource): Promise<{ status: number; body: unknown }> {
  const readiness = await checkReadiness(source);
  return {
    status: readiness.ready ? 200 : 503,
    body: readiness.ready ? { status: 'ready', checks: readiness.checks } : { status: 'not ready', failed: readiness.failed, checks: readiness.checks },
  };
}
