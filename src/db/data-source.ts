import path from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ENTITIES, SUBSCRIBERS } from './entities';

/** Migrations are compiled next to the sources (dist/migrations) and loaded from there. */
const MIGRATIONS_GLOB = path.join(__dirname, '..', '..', 'migrations', '*.{js,ts}');

export function createDataSource(url: string, options: { poolSize?: number; applicationName?: string; statementTimeoutMs?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    subscribers: SUBSCRIBERS,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'schema_migration',
    migrationsRun: false,
    synchronize: false,
    uuidExtension: 'pgcrypto',
    poolSize: options.poolSize ?? 20,
    applicationName: options.applicationName ?? 'cms-webhooks',
    // TypeORM's query log prints parameters, which can hold header values: errors are logged by the API layer.
    logging: false,
    // Sent at connect, so every pooled connection has it: one runaway statement cannot hold a
    // connection (and the pool) for ever. app.ts lifts it for the migrations' own connection.
    extra: options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {},
  });
}

/** Creates the database named in `url` when it does not exist yet (embedded mode, tests). */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    // Two processes racing to create the same database: the loser sees a duplicate.
    if ((error as { code?: string }).code !== '42P04' && (error as { code?: string }).code !== '23505') throw error;
  } finally {
    await client.end();
  }
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The pg pool's counters behind a DataSource, for the pool gauges; undefined once it is closed. */
export function poolStats(dataSource: DataSource): { totalCount: number; idleCount: number; waitingCount: number } | undefined {
  if (!dataSource.isInitialized) return undefined;
  return (dataSource.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
}
