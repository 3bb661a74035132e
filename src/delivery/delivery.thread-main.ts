import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { createDataSource } from '../db/data-source';
import type { FromThread, ThreadData, ToThread } from './delivery.thread';
import { startDeliveryWorker } from './delivery.worker';
import { OutcomeWriter } from './outcome-writer';
import { UnrecordedAttempts } from './unrecorded';
import { enableMetrics, snapshot, watchPool } from '../observability/metrics';
import { poolStats } from '../db/data-source';

/** The delivery thread's entry point (see delivery.thread.ts). The parent ran the migrations. */

const port = parentPort!;
const data = workerData as ThreadData;
const send = (message: FromThread) => port.postMessage(message);
const log = (line: string) => send({ type: 'log', line });

async function main(): Promise<void> {
  const dataSource = createDataSource(data.databaseUrl, { statementTimeoutMs: data.statementTimeoutMs, applicationName: 'cms-webhooks-worker' });
  await dataSource.initialize();
  if (data.metrics) {
    // Process-wide metrics (CPU, memory) come from the main thread: counted here they would add up twice.
    enableMetrics({ defaults: false });
    watchPool('delivery_thread', () => poolStats(dataSource));
  }
  const unrecorded = new UnrecordedAttempts(dataSource, log);
  const writer = new OutcomeWriter(dataSource, { unrecorded });
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
          send({ type: 'stopped' });
        })();
        break;
    }
  });
  await worker.ready;
  send({ type: 'ready' });
}

main().catch((error: Error) => {
  send({ type: 'failed', message: error.message });
  process.exit(1);
});
