import 'reflect-metadata';
import { DataSource, MigrationExecutor } from 'typeorm';
import type { Config } from './config/config';
import { createDataSource, ensureDatabase } from './db/data-source';
import { canUseThread, startDeliveryThread } from './delivery/delivery.thread';
import { createWebhookSender, DeliveryWorker, startDeliveryWorker } from './delivery/delivery.worker';
import { EmbeddedPostgres, startEmbeddedPostgres, } from './db/embedded-postgres';
import { OutcomeWriter } from './delivery/outcome-writer';
import { settleHealthOf } from './health/health.rules';
import { UnrecordedAttempts } from './delivery/unrecorded';
import { ADVISORY_LOCKS } from './db/names';
import { buildAppSchema } from './graphql/schema';
import { HttpServer, startHttpServer } from './server';
import { createServices, Services } from './services';

export interface RunningApp {
  dataSource: DataSource;
  services: Services;
  http?: HttpServer;
  worker?: DeliveryWorker;
  /** Graceful stop: health goes 503, HTTP drains, the worker finishes in-flight attempts. */
  stop(): Promise<void>;
}

/** With no DATABASE_URL, the embedded cluster under DATA_DIR; its data survives restarts. */
async function resolveDatabase(config: Config, log: (line: string) => void): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log: () => undefined });
  log(
    embedded.adopted
      ? `adopting the embedded PostgreSQL left running by an earlier process, data in ${config.dataDir}`
      : `embedded PostgreSQL running with its data in ${config.dataDir}`,
  );
  const url = new URL(embedded.url);
  url.pathname = '/cms';
  return { url: url.toString(), embedded };
}

export async function startApp(config: Config, log: (line: string) => void = console.log): Promise<RunningApp> {
  const { url, embedded } = await resolveDatabase(config, log);
  await ensureDatabase(url);
  const dataSource = createDataSource(url, { statementTimeoutMs: config.statementTimeoutMs });
  await dataSource.initialize();
  // Several processes may start together on one database: one runs the migrations at a time.
  // The lock belongs to a session, so it is taken and released on one dedicated connection,
  // not on whichever pooled connection a query happens to get.
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    // Waiting for another process's migrations, and the migrations themselves, may take longer
    // than DATABASE_STATEMENT_TIMEOUT_MS: neither is a runaway query. RESET restores the
    // connection's own value before it goes back to the pool.
    await lock.query('SET statement_timeout = 0');
    await lock.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    const migrations = new MigrationExecutor(dataSource, lock);
    migrations.transaction = 'all';
    const applied = await migrations.executePendingMigrations();
    if (applied.length > 0) log(`applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await lock
      .query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations])
      .then(() => lock.query('RESET statement_timeout'))
      .finally(() => lock.release());
  }

  // One guarded, keep-alive sender for the sends people trigger (replay, test); the worker has its own.
  const sender = createWebhookSender(config.webhook);
  // Outcomes of attempts made while the database was away, this process's sends and worker alike.
  const health = settleHealthOf(config.webhook);
  const unrecorded = new UnrecordedAttempts(dataSource, log, undefined, health);
  // One writer per process: test sends, replays and the worker's outcomes share its batches.
  const writer = new OutcomeWriter(dataSource, { unrecorded, health });
  const services = createServices(dataSource, { sender, webhookConfig: config.webhook, writer });
  const { createdToken } = await services.identity.bootstrap(config.bootstrapAdminToken);
  if (createdToken) {
    // Printed once, on the first start of an empty database; only its hash is stored.
    log(`created super-admin admin@localhost; its API token (shown only now): ${createdToken}`);
  }

  let http: HttpServer | undefined;
  if (config.role !== 'worker') {
    // The live call log (webhookCallLogged) LISTENs on its own connection; only API processes serve it.
    await services.webhookCallPubSub.start(log);
    http = await startHttpServer({
      schema: buildAppSchema(services.webhookCallPubSub),
      services,
      port: config.port,
      log,
      limits: { graphql: config.graphqlLimits, websocket: config.websocket },
    });
    log(`GraphQL on http://localhost:${http.port}/graphql (subscriptions: ws on the same path), health on /healthz`);
    log(`console on http://localhost:${http.port}/`);
  }

  let worker: DeliveryWorker | undefined;
  if (config.role !== 'api') {
    if (config.role === 'all' && config.deliveryThread && canUseThread()) {
      worker = startDeliveryThread({
        databaseUrl: url,
        config,
        log,
        // Delivery would silently stop: better to stop the process, so its supervisor restarts it.
        onCrash: () => {
          process.exitCode = 1;
          process.kill(process.pid, 'SIGTERM');
        },
      });
      await worker.ready;
      log(`delivery worker ${worker.workerId} running on its own thread`);
    } else {
      worker = startDeliveryWorker({ dataSource, databaseUrl: url, config: config.webhook, log, unrecorded, writer });
      await worker.ready;
      log(`delivery worker ${worker.workerId} running`);
    }
  }

  let stopped = false;
  return {
    dataSource,
    services,
    http,
    worker,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      http?.markDraining();
      await http?.close();
      if (http) log('HTTP and WebSocket connections drained');
      // In-flight attempts finish (within the grace period) before the pool closes; the rest are handed back.
      await worker?.stop(config.webhook.shutdownGraceMs);
      sender.close();
      await writer.flushed();
      await unrecorded.close();
      await services.eventFeed.stop();
      await services.webhookCallPubSub.stop();
      await services.identity.touched(); // last-used writes still in flight, before their pool closes
      await dataSource.destroy();
      log('database connections closed');
      await embedded?.stop();
      if (embedded) log('embedded PostgreSQL stopped');
    },
  };
}
