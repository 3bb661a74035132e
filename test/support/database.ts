import crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import { createDataSource, ensureDatabase, withDatabase } from '../../src/db/data-source';

/** The server-level URL set by global-setup. */
export function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run the tests through jest (global-setup)');
  return url;
}

/** A fresh, migrated database of its own for one test file. */
export async function createTestDatabase(prefix = 't'): Promise<{ url: string; dataSource: DataSource }> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const url = withDatabase(serverUrl(), name);
  await ensureDatabase(url);
  const dataSource = createDataSource(url, { poolSize: 10 });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'all' });
  return { url, dataSource };
}
