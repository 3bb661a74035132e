import crypto from 'node:crypto';
import { Client } from 'pg';
import { startApp } from '../../src/app';
import { withDatabase } from '../../src/db/data-source';
import { testConfig } from '../support/config';
import { serverUrl } from '../support/database';
import { captureLog } from '../support/log';

/**
 * Several processes may start at once on one empty database (a deployment of N replicas):
 * one applies the migrations, the others wait for it, and the lock is released afterwards.
 */
test('three apps starting together on one empty database: migrations run once, every app serves, the lock is released', async () => {
  const url = withDatabase(serverUrl(), `startup_${crypto.randomBytes(6).toString('hex')}`);
  const logs = [captureLog(), captureLog(), captureLog()];
  const token = `test-admin-${crypto.randomBytes(12).toString('hex')}`;
  const apps = await Promise.all(
    logs.map((own) => startApp(testConfig(url, { ROLE: 'api', BOOTSTRAP_ADMIN_TOKEN: token }), own.log)),
  );
  try {
    const applied = logs.flatMap((l) => l.lines).filter((l) => l.startsWith('applied '));
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatch(/^applied \d+ migration\(s\): Initial1764000000000, /);
    for (const app of apps) {
      const res = await fetch(`http://127.0.0.1:${app.http!.port}/healthz`);
      expect(res.status).toBe(200);
    }
    // Taken and released on one connection: no session of any app still holds it. Advisory locks
    // are per database; other test files start apps on their own databases of the same cluster.
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const held = await client.query(
        `SELECT count(*)::int AS n FROM pg_locks
          WHERE locktype = 'advisory' AND objid = 4242000 AND granted
            AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(held.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  } finally {
    await Promise.all(apps.map((app) => app.stop()));
  }
});
