import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/config';
import { attempt, type Attempted } from './attempt';
import { disableIfFailingFor } from './auto-disable';
import { DeliveryStatus } from './delivery.entity';
import type { ClaimedDelivery } from './delivery-row';
import { fanOut } from './fanout.service';
import { createHttpSender, type HttpSender } from './http-sender';
import { settleHealthOf } from '../health/health.rules';
import { OutcomeWriter } from './outcome-writer';
import { deliveryGivenUp, type MetricsSnapshot } from '../observability/metrics';
import { claimDue, msUntilNextDue, releaseLeases, type Settled } from './queue';
import { anyFifoWebhook, claimFifoHeads } from './queue-fifo';
import { USER_AGENT } from './request-builder';
import { RecheckDelay } from './recheck-delay';
import { RetentionJob } from './retention';
import { SlotPool } from './slots';
import { UnrecordedAttempts } from './unrecorded';
import { WakeUps } from './wake-ups';
import type { Logger } from '../observability/logger';

/**
 * Stage two of delivery: claim due deliveries under a lease, send them, record the outcome.
 *
 * Many workers may share one database: claims use FOR UPDATE SKIP LOCKED and a lease
 * (`lease_expires_at`, `leased_by`), so each delivery is attempted by one worker at a time,
 * and a worker that dies leaves leases that simply expire. Delivery is at least once: an
 * attempt whose outcome could not be recorded (crash, lost lease) is made again, with the
 * same `webhook-id`, which is what receivers deduplicate on. A crash loses at most the
 * attempts in flight: those running, and those whose outcome waits for the next batch.
 *
 * The parts: WakeUps says when to look for work, SlotPool holds what is leased and enforces
 * the caps, OutcomeWriter writes outcomes in batches, RetentionJob prunes. The pump below
 * fans out new events, then claims what fits.
 *
 * A disabled webhook: fan-out gives it no new events, and its deliveries already queued
 * (retries in progress when it was disabled) are not claimed but stay pending, paused. Once
 * enabled again they go out at the next wake-up.
 *
 * FIFO webhooks (queue-fifo.ts) are claimed apart, a head at a time, first in each pump: their
 * next delivery may go only once the previous outcome is written, so the worker that writes
 * it looks again at once.
 */

export interface DeliveryWorkerOptions {
  dataSource: DataSource;
  /** For the dedicated LISTEN connection. */
  databaseUrl: string;
  config: Config['webhook'];
  /** Operational lines, with the delivery's ids as fields; never given header values, secrets, URLs or bodies. */
  log: Logger;
  workerId?: string;
  /** Defaults to an SSRF-guarded sender built from `config`; an injected one is not closed by stop(). */
  sender?: HttpSender;
  /** The process's store of outcomes the database could not take; by default the worker's own (closed by stop()). */
  unrecorded?: UnrecordedAttempts;
  /** The process's outcome writer, shared with test sends and replays; by default the worker's own. */
  writer?: OutcomeWriter;
}

export interface DeliveryWorker {
  readonly workerId: string;
  /** Settles once the listener's first connection attempt and the first pump are done. */
  readonly ready: Promise<void>;
  /** Look for work now. */
  wake(): void;
  /** Resolves when no attempt is in flight, no outcome waits to be written and no pump is running. */
  drained(): Promise<void>;
  /** Stops claiming, waits up to `graceMs` for attempts in flight, hands the rest back. */
  stop(graceMs?: number): Promise<void>;
  /** A worker on another thread: its metrics, to merge into this thread's /metrics. */
  metricsSnapshot?(): Promise<MetricsSnapshot>;
}

const FANOUT_BATCH = 500;
/** How long a worker holds the events it is fanning out (two statements); a crash releases them after it. */
const FANOUT_LEASE_MS = 30_000;
/** Claim statements per pump before new events get their turn. */
const MAX_CLAIM_ROUNDS = 3;
/**
 * How long "is there any FIFO webhook?" is believed, so a worker without any does not ask on
 * every pass; a webhook just turned FIFO waits at most this (and the next wake-up) for its first claim.
 */
const FIFO_CHECK_MS = 250;
/** A FIFO head held back by an open older transaction is looked at again after this, growing to the max. */
const FIFO_RECHECK_MIN_MS = 10;
const FIFO_RECHECK_MAX_MS = 1_000;

export function createWebhookSender(config: Config['webhook']): HttpSender {
  return createHttpSender({ timeoutMs: config.timeoutMs, allowedCidrs: config.allowedCidrs, userAgent: USER_AGENT });
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { dataSource, config, log } = options;
  const workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const sender = options.sender ?? createWebhookSender(config);
  const health = settleHealthOf(config);
  const unrecorded = options.unrecorded ?? new UnrecordedAttempts(dataSource, log, undefined, health);
  const fanOutOptions = { maxCausalDepth: config.maxCausalDepth, log };
  const writer = options.writer ?? new OutcomeWriter(dataSource, { unrecorded, health });
  const policy = { retryScheduleMs: config.retryScheduleMs };
  // A claimed delivery may wait for one attempt in `ready`, then make its own: the lease
  // covers both, plus room for the write.
  const leaseMs = 2 * config.timeoutMs + config.leaseMarginMs;
  const slots = new SlotPool(config.concurrency, config.perWebhookConcurrency);
  const retention = new RetentionJob(dataSource, config.logRetentionMs, log);
  const attempts = new Set<Promise<void>>();

  let stopping = false;
  let eventsDirty = true;
  // Whether to ask the database for the earliest future retry: at start and on sweeps. Our own
  // retries arm the timer as their outcomes come in; asking after every pump cost a statement
  // per delivery.
  let lookAhead = true;
  let pumping: Promise<void> | null = null;
  let pumpAgain = false;
  let drainWaiters: Array<() => void> = [];
  let fifoKnownAt = -Infinity;
  let fifoExists = false;
  const fifoRecheck = new RecheckDelay(FIFO_RECHECK_MIN_MS, FIFO_RECHECK_MAX_MS);

  const wakeUps = new WakeUps({
    databaseUrl: options.databaseUrl,
    pollIntervalMs: config.pollIntervalMs,
    log,
    wake: ({ events, sweep }) => {
      if (events) eventsDirty = true;
      if (sweep) lookAhead = true;
      wake();
    },
    // What could not be logged while the database was away is logged now, not at its next retry.
    connected: () => {
      if (unrecorded.size > 0) void unrecorded.flush();
    },
  });

  function checkDrained(): void {
    if (attempts.size > 0 || pumping || slots.busy) return;
    const waiters = drainWaiters;
    drainWaiters = [];
    waiters.forEach((resolve) => resolve());
  }

  function wake(): void {
    if (stopping) return;
    if (pumping) {
      pumpAgain = true;
      return;
    }
    pumping = (async () => {
      try {
        do {
          pumpAgain = false;
          await pumpOnce();
        } while (pumpAgain && !stopping);
      } catch (error) {
        // Database trouble: the next poll (or notification) tries again.
        log.error({ err: error }, 'delivery worker: pump failed');
      } finally {
        pumping = null;
        checkDrained();
      }
    })();
  }

  async function pumpOnce(): Promise<void> {
    if (eventsDirty) {
      eventsDirty = false;
      try {
        // A full batch means more may be waiting. What fits our free slots is leased to us as it
        // is queued, and starts at once, without a claim.
        let events = FANOUT_BATCH;
        while (!stopping && events === FANOUT_BATCH) {
          const fanned = await fanOut(dataSource, FANOUT_BATCH, FANOUT_LEASE_MS, { workerId, leaseMs, plan: (ids) => slots.plan(ids) }, fanOutOptions);
          events = fanned.events;
          if (fanned.taken.length > 0) {
            slots.add(fanned.taken, Date.now());
            startReady();
          }
        }
      } catch (error) {
        eventsDirty = true;
        throw error;
      }
    }
    const room = await claimWhileRoom();
    // Only when room is left is "nothing due" known; otherwise a finishing attempt wakes us.
    if (room && !stopping && lookAhead) {
      lookAhead = false;
      const ms = await msUntilNextDue(dataSource);
      if (ms !== null) wakeUps.at(ms);
    }
  }

  /**
   * Claims until nothing more fits or nothing more is due; true if room is left. At most a few
   * rounds: with a busy webhook, slots free up during every claim, and an unbounded loop
   * would keep the pump from fanning out new events. When more may be due, the pump runs
   * again after a fan-out check.
   */
  async function claimWhileRoom(): Promise<boolean> {
    await claimFifo();
    for (let round = 0; ; round++) {
      if (stopping) return false;
      const free = slots.claimRoom();
      if (free <= 0) return false;
      if (round === MAX_CLAIM_ROUNDS || eventsDirty) {
        pumpAgain = true;
        return false;
      }
      // Over-select: rows of a webhook at its limit are skipped, not claimed.
      const limit = Math.min(free * 4, 1000);
      const { selected, claimed } = await claimDue(dataSource, {
        limit,
        free,
        perWebhookLimit: slots.claimLimitPerWebhook,
        busy: slots.held(),
        // Deliveries whose outcome waits to be logged stay ours: not claimed, not sent again.
        heldIds: [...slots.heldIds(), ...unrecorded.deliveryIds()],
        leaseMs,
        workerId,
      });
      slots.add(claimed, Date.now());
      startReady();
      // More may be due if the LIMIT was reached, or if rows were passed over for a webhook
      // that is now full (the next round excludes it in SQL and looks further).
      const passedOver = selected - claimed.length;
      if (claimed.length === 0 || (selected < limit && passedOver === 0)) return slots.claimRoom() > 0;
    }
  }

  /** FIFO heads, at most one per webhook: few, so one statement a pump. */
  async function claimFifo(): Promise<void> {
    const free = slots.claimRoom();
    if (stopping || free <= 0) return;
    if (Date.now() - fifoKnownAt > FIFO_CHECK_MS) {
      fifoExists = await anyFifoWebhook(dataSource);
      fifoKnownAt = Date.now();
    }
    if (!fifoExists) return;
    const { claimed, unsettled } = await claimFifoHeads(dataSource, {
      free,
      heldIds: [...slots.heldIds(), ...unrecorded.deliveryIds()],
      leaseMs,
      workerId,
    });
    slots.add(claimed, Date.now());
    startReady();
    // Nothing announces that an older transaction ended (it may have written no event): look again.
    if (unsettled > 0) wakeUps.at(fifoRecheck.next());
    else fifoRecheck.reset();
  }

  function startReady(): void {
    if (stopping) return;
    // A delivery that waited this long might see its lease run out during the attempt.
    const { start, stale } = slots.take(Date.now() - (config.timeoutMs + config.leaseMarginMs / 2));
    if (stale.length > 0) {
      releaseLeases(dataSource, workerId, stale.map((d) => d.id)).catch((error) => log.warn({ err: error }, `delivery worker: could not hand back ${stale.length} lease(s)`));
    }
    start.forEach(run);
  }

  function run(delivery: ClaimedDelivery): void {
    const work = (async () => {
      let attempted: Attempted | undefined;
      try {
        const { webhook, kind, eventId, trigger, body, contentType, bodyError, traceContext } = delivery;
        attempted = await attempt(sender, { webhook, kind, eventId, trigger, body, contentType, bodyError, traceContext }, policy, { id: delivery.id, attempts: delivery.attempts, workerId });
      } catch (error) {
        // attempt() turns every sending failure into an outcome; this is a bug guard. Nothing is
        // logged, so the lease runs out and the delivery is tried again.
        log.error({ ...deliveryFields(delivery), err: error }, 'delivery attempt failed before it could be logged');
      } finally {
        // The receiver is done with us: its slot goes to the next delivery while the outcome is written.
        slots.exchanged(delivery);
        startReady();
        wake();
      }
      try {
        if (attempted) await report(delivery, attempted, await writer.write(attempted.entry));
      } catch (error) {
        if ((error as { driverError?: { code?: string } }).driverError?.code === '23503') {
          // The webhook was deleted during the attempt; its deliveries and log went with it.
          log.info(deliveryFields(delivery), 'delivery attempt not recorded: the webhook was deleted during the attempt');
        } else {
          // Not recorded: the lease expires and the delivery is tried again (at least once).
          log.error({ ...deliveryFields(delivery), err: error }, 'delivery attempt could not be recorded; it is made again once its lease expires');
        }
      } finally {
        slots.settled(delivery.id);
        // Its outcome is written: the next in a FIFO webhook's line may go now.
        if (delivery.fifo) wake();
      }
    })().finally(() => {
      attempts.delete(work);
      checkDrained();
    });
    attempts.add(work);
  }

  async function report(delivery: ClaimedDelivery, attempted: Attempted, settled: Settled | null): Promise<void> {
    const { result, retryInMs, status } = attempted;
    const fields = attemptFields(delivery, attempted);
    if (!settled) {
      log.warn(fields, 'delivery attempt made, but the database is unavailable; the outcome is kept in memory and logged when it is back');
      return;
    }
    if (!settled.settled) {
      log.warn(fields, 'delivery attempt logged, but its lease was taken over; left the delivery alone');
      return;
    }
    // One line per attempt: a success at info (LOG_LEVEL=warn drops them), a failure to be
    // retried at warn, a delivery given up at error.
    if (result.success) log.info(fields, 'delivery attempt succeeded');
    else if (retryInMs === null) log.error(fields, `delivery attempt failed (${fields.errorCode}); giving up`);
    else log.warn(fields, `delivery attempt failed (${fields.errorCode}); retry in ${retryInMs} ms`);
    if (retryInMs !== null) wakeUps.at(retryInMs);
    if (status === DeliveryStatus.FAILED) deliveryGivenUp();
    if (status === DeliveryStatus.FAILED && config.autoDisableAfterMs != null) {
      // Rare (a delivery given up), so the check stays off the hot path.
      const disabled = await disableIfFailingFor(dataSource, delivery.webhookId, config.autoDisableAfterMs).catch((error) => {
        log.error({ webhookId: delivery.webhookId, err: error }, 'delivery worker: auto-disable check failed');
        return false;
      });
      if (disabled) log.error({ webhookId: delivery.webhookId, autoDisableAfterMs: config.autoDisableAfterMs }, 'webhook disabled automatically: every call failed for WEBHOOK_AUTO_DISABLE_AFTER');
    }
  }

  const ready = (async () => {
    log.info({ workerId }, `delivery worker ${workerId} starting`);
    await wakeUps.start();
    wake();
    while (pumping) await pumping;
    retention.start();
  })();

  let stopped: Promise<void> | null = null;
  async function stop(graceMs: number = config.shutdownGraceMs): Promise<void> {
    stopping = true;
    await wakeUps.stop();
    while (pumping) await pumping; // a claim in progress finishes
    await retention.stop(); // ends after its current batch
    const unsent = slots.drainReady();
    if (unsent.length > 0) await releaseLeases(dataSource, workerId, unsent.map((d) => d.id)).catch(() => undefined);
    if (attempts.size > 0) await settleWithin([...attempts], graceMs);
    // Written before any lease is handed back: the fence on leased_by must still hold for them.
    await writer.flushed();
    if (unrecorded.size > 0) await unrecorded.flush();
    if (slots.runningCount > 0) {
      // Handed back at once rather than left to expire, so another worker takes them now.
      const released = await releaseLeases(dataSource, workerId);
      log.warn({ workerId, released }, `delivery worker ${workerId}: released ${released} lease(s) still in flight after ${graceMs} ms`);
    }
    if (!options.sender) sender.close();
    // Closing the sender aborts what is left; give those attempts a moment to write their log rows.
    if (attempts.size > 0) await settleWithin([...attempts], 1_000);
    await writer.flushed();
    if (!options.unrecorded) await unrecorded.close();
    log.info({ workerId }, `delivery worker ${workerId} stopped`);
  }

  return {
    workerId,
    ready,
    wake,
    drained: () =>
      new Promise<void>((resolve) => {
        drainWaiters.push(resolve);
        checkDrained();
      }),
    stop: (graceMs) => (stopped ??= stop(graceMs)),
  };
}

/** The ids every line about a delivery carries. */
function deliveryFields(delivery: ClaimedDelivery) {
  return { deliveryId: delivery.id, webhookId: delivery.webhookId, eventId: delivery.eventId, trigger: delivery.trigger, attempt: delivery.attempts + 1 };
}

/** An attempt's line: who, and what came of it. No URL (it may hold credentials), no error text (it may quote the receiver). */
function attemptFields(delivery: ClaimedDelivery, attempted: Attempted) {
  const { result, status, retryInMs } = attempted;
  return {
    ...deliveryFields(delivery),
    outcome: result.success ? 'succeeded' : retryInMs === null ? 'failed' : 'retrying',
    status: status ?? undefined,
    statusCode: result.statusCode ?? undefined,
    errorCode: result.success ? undefined : (result.errorCode ?? 'error'),
    durationMs: Math.round(result.durationMs),
    retryInMs: retryInMs ?? undefined,
  };
}

async function settleWithin(work: Promise<void>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(work), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
