import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Config } from '../config/config';
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
  /** The thread builds its own logger with these: the same format and redaction, straight to stdout. */
  log: LogSettings;
  /** The thread's own tracer provider, with the same exporter settings; null = off. */
  tracing: Config['tracing'];
}

export type ToThread = { type: 'wake' } | { type: 'drained'; id: number } | { type: 'stop'; graceMs: number };
export type FromThread =
  | { type: 'ready' }
  | { type: 'drained'; id: number }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

const ENTRY = path.join(__dirname, 'delivery.thread-main.js');

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
    log: { level: options.config.log.level, format: options.config.log.format ?? 'json', colorize: Boolean(process.stdout.isTTY) },
    tracing: options.config.tracing,
  };
  const thread = new Worker(ENTRY, { workerData: data });
  const drainWaiters = new Map<number, () => void>();
  let nextDrainId = 0;
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
