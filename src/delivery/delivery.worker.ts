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
import { claimDue, msUntilNextDue, releaseLeases, type Settled } from './queue';
import { USER_AGENT } from './request-builder';
import { RetentionJob } from './retention';
import { SlotPool } from './slots';
import { UnrecordedAttempts } from './unrecorded';
import { WakeUps } from './wake-ups';

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
 */

export interface DeliveryWorkerOptions {
  dataSource: DataSource;
  /** For the dedicated LISTEN connection. */
  databaseUrl: string;
  config: Config['webhook'];
  /** Short operational lines; never given header values, secrets or bodies. */
  log: (line: string) => void;
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
}

const FANOUT_BATCH = 500;
/** How long a worker holds the events it is fanning out (two statements); a crash releases them after it. */
const FANOUT_LEASE_MS = 30_000;
/** Claim statements per pump before new events get their turn. */
const MAX_CLAIM_ROUNDS = 3;

export function createWebhookSender(config: Config['webhook']): HttpSender {
  return createHttpSender({ timeoutMs: config.timeoutMs, allowedCidrs: config.allowedCidrs, userAgent: USER_AGENT });
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { dataSource, config, log } = options;
  const workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const sender = options.sender ?? createWebhookSender(config);
  const health = settleHealthOf(config);
  const unrecorded = options.unrecorded ?? new UnrecordedAttempts(dataSource, log, undefined, health);
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
        log(`delivery worker: pump failed: ${(error as Error).message}`);
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
          const fanned = await fanOut(dataSource, FANOUT_BATCH, FANOUT_LEASE_MS, { workerId, leaseMs, plan: (ids) => slots.plan(ids) });
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

  function startReady(): void {
    if (stopping) return;
    // A delivery that waited this long might see its lease run out during the attempt.
    const { start, stale } = slots.take(Date.now() - (config.timeoutMs + config.leaseMarginMs / 2));
    if (stale.length > 0) {
      releaseLeases(dataSource, workerId, stale.map((d) => d.id)).catch((error) => log(`delivery worker: could not hand back ${stale.length} lease(s): ${(error as Error).message}`));
    }
    start.forEach(run);
  }

  function run(delivery: ClaimedDelivery): void {
    const work = (async () => {
      let attempted: Attempted | undefined;
      try {
        const { webhook, kind, eventId, trigger, body } = delivery;
        attempted = await attempt(sender, { webhook, kind, eventId, trigger, body }, policy, { id: delivery.id, attempts: delivery.attempts, workerId });
      } catch (error) {
        // attempt() turns every sending failure into an outcome; this is a bug guard. Nothing is
        // logged, so the lease runs out and the delivery is tried again.
        log(`delivery ${delivery.id}: attempt failed before it could be logged: ${(error as Error).message}`);
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
          log(`delivery ${delivery.id}: webhook ${delivery.webhookId} was deleted during the attempt; nothing recorded`);
        } else {
          // Not recorded: the lease expires and the delivery is tried again (at least once).
          log(`delivery ${delivery.id}: attempt could not be recorded: ${(error as Error).message}`);
        }
      } finally {
        slots.settled(delivery.id);
      }
    })().finally(() => {
      attempts.delete(work);
      checkDrained();
    });
    attempts.add(work);
  }

  async function report(delivery: ClaimedDelivery, attempted: Attempted, settled: Settled | null): Promise<void> {
    const what = `delivery ${delivery.id} (webhook ${delivery.webhookId}) attempt ${delivery.attempts + 1}`;
    const { result, retryInMs, status } = attempted;
    if (!settled) {
      log(`${what}: sent, but the database is unavailable; the outcome is kept in memory and logged when it is back`);
      return;
    }
    if (!settled.settled) {
      log(`${what}: lease was taken over; logged the attempt, left the delivery alone`);
      return;
    }
    if (!result.success) {
      const reason = result.errorCode ?? 'error';
      log(retryInMs === null ? `${what} failed (${reason}); giving up` : `${what} failed (${reason}); retry in ${retryInMs} ms`);
    }
    if (retryInMs !== null) wakeUps.at(retryInMs);
    if (status === DeliveryStatus.FAILED && config.autoDisableAfterMs != null) {
      // Rare (a delivery given up), so the check stays off the hot path.
      await disableIfFailingFor(dataSource, delivery.webhookId, config.autoDisableAfterMs).catch((error) =>
        log(`delivery worker: auto-disable check of webhook ${delivery.webhookId} failed: ${(error as Error).message}`),
      );
    }
  }

  const ready = (async () => {
    log(`delivery worker ${workerId} starting`);
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
      log(`delivery worker ${workerId}: released ${released} lease(s) still in flight after ${graceMs} ms`);
    }
    if (!options.sender) sender.close();
    // Closing the sender aborts what is left; give those attempts a moment to write their log rows.
    if (attempts.size > 0) await settleWithin([...attempts], 1_000);
    await writer.flushed();
    if (!options.unrecorded) await unrecorded.close();
    log(`delivery worker ${workerId} stopped`);
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

async function settleWithin(work: Promise<void>[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled(work), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
