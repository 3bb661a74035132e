import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { createDataSource } from '../db/data-source';
import type { FromThread, ThreadData, ToThread } from './delivery.thread';
import { startDeliveryWorker } from './delivery.worker';
import { settleHealthOf } from '../health/health.rules';
import { OutcomeWriter } from './outcome-writer';
import { UnrecordedAttempts } from './unrecorded';
import { enableMetrics, snapshot, watchPool } from '../observability/metrics';
import { poolStats } from '../db/data-source';
import { createLogger } from '../observability/logger';

/** The delivery thread's entry point (see delivery.thread.ts). The parent ran the migrations. */

const port = parentPort!;
const data = workerData as ThreadData;
const send = (message: FromThread) => port.postMessage(message);
// Lines go to stdout from here, not through the parent: one less hop per line, same format.
const log = createLogger(data.log, { base: { thread: 'delivery' } });

async function main(): Promise<void> {
  // OpenTelemetry's globals are per thread: the thread registers a provider of its own.
  if (data.tracing) (require('../observability/tracing-sdk') as typeof import('../observability/tracing-sdk')).startTracing(data.tracing, log);
  const dataSource = createDataSource(data.databaseUrl, { statementTimeoutMs: data.statementTimeoutMs, applicationName: 'cms-webhooks-worker' });
  await dataSource.initialize();
  if (data.metrics) {
    // Process-wide metrics (CPU, memory) come from the main thread: counted here they would add up twice.
    enableMetrics({ defaults: false });
    watchPool('delivery_thread', () => poolStats(dataSource));
  }
  const health = settleHealthOf(data.config);
  const unrecorded = new UnrecordedAttempts(dataSource, log, undefined, health);
  const writer = new OutcomeWriter(dataSource, { unrecorded, health });
  const worker = startDeliveryWorker({ dataSource, databaseUrl: data.databaseUrl, config: data.config, log, workerId: data.workerId, unrecorded, writer });
  port.on('message', (message: ToThread) => {
    switch (message.type) {
      case 'wake':
        worker.wake();
        break;
      case 'drained':
        void worker.drained().then(() => send({ type: 'drained', id: message.id }));
        break;
      case 'metrics':
        void snapshot().then((values) => send({ type: 'metrics', id: message.id, snapshot: values }));
        break;
      case 'stop':
        void (async () => {
          await worker.stop(message.graceMs);
          await writer.flushed();
          await unrecorded.close();
          await dataSource.destroy();
          if (data.tracing) await (require('../observability/tracing-sdk') as typeof import('../observability/tracing-sdk')).stopTracing();
          send({ type: 'stopped' });
        })();
        break;
    }
  });
  await worker.ready;
  send({ type: 'ready' });
}

main().catch((error: Error) => {
  log.fatal({ err: error }, 'delivery thread failed to start');
  log.flush();
  send({ type: 'failed', message: error.message });
  process.exit(1);
});
