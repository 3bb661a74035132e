import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/config';
import type { MetricsSnapshot } from '../observability/metrics';
import type { DeliveryWorker } from './delivery.worker';
import type { LogSettings, Logger } from '../observability/logger';

/**
 * With ROLE=all, the delivery worker runs on a thread of its own: its own event loop, its own
 * connection pool, in the same process. In one event loop, a burst of saves (GraphQL parsing,
 * TypeORM) kept every delivery's callbacks waiting behind it, so the queue grew while the
 * CPU's other core sat idle. A thread costs a second V8 heap (tens of MB) and a few pooled
 * connections; ROLE=worker processes need none of this, and DELIVERY_THREAD=off turns it off.
 *
 * The thread runs the compiled entry point (delivery.thread-main.js); from TypeScript sources
 * (the test runner) there is none, and the worker runs in the main event loop instead.
 */

export interface ThreadData {
  databaseUrl: string;
  config: Config['webhook'];
  statementTimeoutMs: number;
  workerId: string;
  /** Record metrics in the thread, for the main thread's /metrics. */
  metrics: boolean;
  /** The thread builds its own logger with these: the same format and redaction, straight to stdout. */
  log: LogSettings;
  /** The thread's own tracer provider, with the same exporter settings; null = off. */
  tracing: Config['tracing'];
}

export type ToThread = { type: 'wake' } | { type: 'drained'; id: number } | { type: 'stop'; graceMs: number } | { type: 'metrics'; id: number };
export type FromThread =
  | { type: 'ready' }
  | { type: 'drained'; id: number }
  | { type: 'metrics'; id: number; snapshot: MetricsSnapshot }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

const ENTRY = path.join(__dirname, 'delivery.thread-main.js');
/** How long a scrape waits for the thread's metrics before using its last answer. */
const METRICS_TIMEOUT_MS = 1_000;

/** Whether this build can run the worker on a thread (compiled JavaScript, not sources). */
export function canUseThread(): boolean {
  return fs.existsSync(ENTRY);
}

export function startDeliveryThread(options: {
  databaseUrl: string;
  config: Config;
  log: Logger;
  /** The thread died unexpectedly: delivery has stopped in this process. */
  onCrash: (error: Error) => void;
}): DeliveryWorker {
  const workerId = `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const data: ThreadData = {
    databaseUrl: options.databaseUrl,
    config: options.config.webhook,
    statementTimeoutMs: options.config.statementTimeoutMs,
    workerId,
    metrics: options.config.metrics !== null,
    log: { level: options.config.log.level, format: options.config.log.format ?? 'json', colorize: Boolean(process.stdout.isTTY) },
    tracing: options.config.tracing,
  };
  const thread = new Worker(ENTRY, { workerData: data });
  const drainWaiters = new Map<number, () => void>();
  let nextDrainId = 0;
  const metricsWaiters = new Map<number, (snapshot: MetricsSnapshot) => void>();
  let nextMetricsId = 0;
  // A thread too busy to answer a scrape in time is reported as it last answered: counters
  // that vanish for one scrape would read as a reset.
  let lastSnapshot: MetricsSnapshot = [];
  let stopping = false;
  let exited = false;
  let onStopped: (() => void) | null = null;
  let readyResolve!: () => void;
  let readyReject!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });

  thread.on('message', (message: FromThread) => {
    switch (message.type) {
      case 'ready':
        readyResolve();
        break;
      case 'drained':
        drainWaiters.get(message.id)?.();
        drainWaiters.delete(message.id);
        break;
      case 'metrics':
        lastSnapshot = message.snapshot;
        metricsWaiters.get(message.id)?.(message.snapshot);
        metricsWaiters.delete(message.id);
        break;
      case 'stopped':
        onStopped?.();
        break;
      case 'failed':
        readyReject(new Error(`delivery thread failed to start: ${message.message}`));
        break;
    }
  });
  thread.on('error', (error) => {
    options.log.fatal({ err: error }, 'delivery thread crashed');
    readyReject(error);
    if (!stopping) options.onCrash(error);
  });
  thread.on('exit', (code) => {
    exited = true;
    for (const resolve of drainWaiters.values()) resolve();
    drainWaiters.clear();
    for (const resolve of metricsWaiters.values()) resolve(lastSnapshot);
    metricsWaiters.clear();
    onStopped?.();
    if (!stopping && code !== 0) options.onCrash(new Error(`delivery thread exited with code ${code}`));
  });

  const post = (message: ToThread) => {
    if (!exited) thread.postMessage(message);
  };

  let stopped: Promise<void> | null = null;
  return {
    workerId,
    ready,
    wake: () => post({ type: 'wake' }),
    drained: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const id = nextDrainId++;
        drainWaiters.set(id, resolve);
        post({ type: 'drained', id });
      }),
    metricsSnapshot: () =>
      new Promise<MetricsSnapshot>((resolve) => {
        if (exited) return resolve(lastSnapshot);
        const id = nextMetricsId++;
        const timer = setTimeout(() => {
          metricsWaiters.delete(id);
          resolve(lastSnapshot);
        }, METRICS_TIMEOUT_MS);
        metricsWaiters.set(id, (snapshot) => {
          clearTimeout(timer);
          resolve(snapshot);
        });
        post({ type: 'metrics', id });
      }),
    stop: (graceMs = options.config.webhook.shutdownGraceMs) =>
      (stopped ??= (async () => {
        stopping = true;
        if (exited) return;
        await new Promise<void>((resolve) => {
          onStopped = resolve;
          post({ type: 'stop', graceMs });
        });
        await thread.terminate();
      })()),
  };
}
