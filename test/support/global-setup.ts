import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres';

/**
 * One PostgreSQL for the whole run: the machine's own when DATABASE_URL is set, otherwise a
 * throw-away embedded cluster (fsync off). Each test file then creates its own database
 * (test/support/database.ts), so files never see each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cms-test-pg-'));
  fs.chmodSync(dataDir, 0o755);
  const pg = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  process.env.TEST_DATABASE_URL = pg.url;
  (globalThis as Record<string, unknown>).__EMBEDDED_PG__ = { pg, dataDir };
}
