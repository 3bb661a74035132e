import 'reflect-metadata';
import { parentPort, workerData } from 'node:worker_threads';
import { createDataSource } from '../db/data-source';
import type { FromThread, ThreadData, ToThread } from './delivery.thread';
import { startDeliveryWorker } from './delivery.worker';
import { settleHealthOf } from '../health/health.rules';
import { OutcomeWriter } from './outcome-writer';
import { UnrecordedAttempts } from './unrecorded';

/** The delivery thread's entry point (see delivery.thread.ts). The parent ran the migrations. */

const port = parentPort!;
const data = workerData as ThreadData;
const send = (message: FromThread) => port.postMessage(message);
const log = (line: string) => send({ type: 'log', line });

async function main(): Promise<void> {
  const dataSource = createDataSource(data.databaseUrl, { statementTimeoutMs: data.statementTimeoutMs, applicationName: 'cms-webhooks-worker' });
  await dataSource.initialize();
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
