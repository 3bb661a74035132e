import { Client } from 'pg';
import { startApp } from '../../src/app';
import { testConfig } from '../support/config';
import { createTestDatabase } from '../support/database';

/**
 * DATABASE_STATEMENT_TIMEOUT_MS is on every pooled connection, so a runaway statement gives its
 * connection back; the start (waiting for another process's migrations, and migrating) is not
 * bound by it.
 */
const TIMEOUT_MS = 400;

test('every pooled connection cancels a statement after the timeout; the start waits out a longer migration lock', async () => {
  const db = await createTestDatabase('timeout');
  await db.dataSource.destroy();
  // Another process holding the migration lock for longer than the statement timeout.
  const other = new Client({ connectionString: db.url });
  await other.connect();
  await other.query('SELECT pg_advisory_lock(4242000)');
  const starting = startApp(testConfig(db.url, { ROLE: 'api', DATABASE_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS) }));
  const lockWaiter = async () => {
    // This database's waiters only: other test files start apps on the same cluster.
    const rows = await other.query(
      `SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return rows.rows[0].n as number;
  };
  const deadline = Date.now() + 10_000;
  while ((await lockWaiter()) === 0) {
    if (Date.now() > deadline) throw new Error('the start never waited for the migration lock');
    await new Promise((r) => setTimeout(r, 20));
  }
  // Held for three timeouts while the start waits on it.
  await new Promise((r) => setTimeout(r, TIMEOUT_MS * 3));
  await other.query('SELECT pg_advisory_unlock(4242000)');
  await other.end();
  const app = await starting;
  try {
    // All 20 connections at once, so the migrations' connection is among them.
    const runners = Array.from({ length: 20 }, () => app.dataSource.createQueryRunner());
    await Promise.all(runners.map((r) => r.connect()));
    const settings = await Promise.all(runners.map((r) => r.query('SHOW statement_timeout')));
    await Promise.all(runners.map((r) => r.release()));
    expect(settings.map((rows) => rows[0].statement_timeout)).toEqual(Array(20).fill(`${TIMEOUT_MS}ms`));

    await expect(app.dataSource.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ driverError: { code: '57014' } });
    // The pool is still usable.
    expect(await app.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  } finally {
    await app.stop();
  }
}, 60_000);
