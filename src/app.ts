import 'reflect-metadata';
import { DataSource, MigrationExecutor } from 'typeorm';
import type { Config } from './config/config';
import { createDataSource, ensureDatabase, poolStats } from './db/data-source';
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
import { queueDepth } from './delivery/queue-depth';
import { enableMetrics, render, watchPool, watchQueue } from './observability/metrics';
import { MetricsServer, startMetricsServer } from './observability/metrics-server';
import { type Logger, printOnce, silentLogger } from './observability/logger';

export interface RunningApp {
  dataSource: DataSource;
  services: Services;
  http?: HttpServer;
  worker?: DeliveryWorker;
  /** The metrics listener, when METRICS_PORT is set. */
  metrics?: MetricsServer;
  /** Graceful stop: health goes 503, HTTP drains, the worker finishes in-flight attempts. */
  stop(): Promise<void>;
}

/** With no DATABASE_URL, the embedded cluster under DATA_DIR; its data survives restarts. */
async function resolveDatabase(config: Config, log: Logger): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  if (config.databaseUrl) return { url: config.databaseUrl };
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log: () => undefined });
  log.info(
    { dataDir: config.dataDir },
    embedded.adopted
      ? `adopting the embedded PostgreSQL left running by an earlier process, data in ${config.dataDir}`
      : `embedded PostgreSQL running with its data in ${config.dataDir}`,
  );
  const url = new URL(embedded.url);
  url.pathname = '/cms';
  return { url: url.toString(), embedded };
}

export async function startApp(config: Config, log: Logger = silentLogger): Promise<RunningApp> {
  const { url, embedded } = await resolveDatabase(config, log);
  await ensureDatabase(url);
  const dataSource = createDataSource(url, { statementTimeoutMs: config.statementTimeoutMs });
  await dataSource.initialize();
  // Before anything records: with METRICS_PORT unset, nothing is recorded at all.
  if (config.metrics) {
    enableMetrics({ defaults: true });
    watchPool('main', () => poolStats(dataSource));
  }
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
    if (applied.length > 0) log.info({ migrations: applied.map((m) => m.name) }, `applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await lock
      .query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations])
      .then(() => lock.query('RESET statement_timeout'))
      .finally(() => lock.release());
  }

  let draining = false;
  let worker: DeliveryWorker | undefined;
  let metrics: MetricsServer | undefined;
  if (config.metrics) {
    // The queue is the database's, the same for every process: only processes that deliver report it.
    if (config.role !== 'api') watchQueue(() => withTimeout(queueDepth(dataSource, QUEUE_QUERY_TIMEOUT_MS), QUEUE_QUERY_TIMEOUT_MS + 500));
    // Listening before anything else starts: a port already taken stops the start here.
    metrics = await startMetricsServer({
      ...config.metrics,
      // The delivery thread's counters, when the worker runs on one, merged into this thread's.
      render: async () => render(worker?.metricsSnapshot ? [await worker.metricsSnapshot()] : []),
      readiness: { dataSource, isDraining: () => draining },
      log,
    });
  }

  // One guarded, keep-alive sender for the sends people trigger (replay, test); the worker has its own.
  const sender = createWebhookSender(config.webhook);
  // Outcomes of attempts made while the database was away, this process's sends and worker alike.
  const health = settleHealthOf(config.webhook);
  const unrecorded = new UnrecordedAttempts(dataSource, log, undefined, health);
  // One writer per process: test sends, replays and the worker's outcomes share its batches.
  const writer = new OutcomeWriter(dataSource, { unrecorded, health });
  const services = createServices(dataSource, { sender, webhookConfig: config.webhook, writer }, log);
  const { createdToken } = await services.identity.bootstrap(config.bootstrapAdminToken);
  if (createdToken) {
    // Printed once, on the first start of an empty database; only its hash is stored.
    printOnce(log, `created super-admin admin@localhost; its API token (shown only now): ${createdToken}`);
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
    log.info(`GraphQL on http://localhost:${http.port}/graphql (subscriptions: ws on the same path), health on /healthz`);
    log.info(`console on http://localhost:${http.port}/`);
  }

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
      log.info(`delivery worker ${worker.workerId} running on its own thread`);
    } else {
      worker = startDeliveryWorker({ dataSource, databaseUrl: url, config: config.webhook, log, unrecorded, writer });
      await worker.ready;
      log.info(`delivery worker ${worker.workerId} running`);
    }
  }

  let stopped = false;
  return {
    dataSource,
    services,
    http,
    worker,
    metrics,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      draining = true;
      http?.markDraining();
      await http?.close();
      if (http) log.info('HTTP and WebSocket connections drained');
      // In-flight attempts finish (within the grace period) before the pool closes; the rest are handed back.
      await worker?.stop(config.webhook.shutdownGraceMs);
      sender.close();
      await writer.flushed();
      await unrecorded.close();
      await services.eventFeed.stop();
      await services.webhookCallPubSub.stop();
      await services.identity.touched(); // last-used writes still in flight, before their pool closes
      // Kept up while draining, so /readyz says why; closed before the pool it reads from.
      await metrics?.close();
      await dataSource.destroy();
      log.info('database connections closed');
      await embedded?.stop();
      if (embedded) log.info('embedded PostgreSQL stopped');
    },
  };
}

/** A scrape waits this long for the queue gauges (the statement is cancelled after it, too). */
const QUEUE_QUERY_TIMEOUT_MS = 2_000;

/** Rejects after `ms` even when no pooled connection frees up for `work`: a scrape must not hang. */
function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  work.catch(() => undefined); // its late failure is not unhandled
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
