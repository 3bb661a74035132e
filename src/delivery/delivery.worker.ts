import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import type { Config } from '../config/config';
import { attemptAndLog, type AttemptDeps } from './attempt';
import { claimDueDeliveries, type ClaimedDelivery, msUntilEarliestRetry, releaseLeases } from './claim';
import { dispatchPendingEvents } from './fanout.service';
import { createHttpSender, type HttpSender } from './http-sender';
import { createNotificationListener } from './listener';
import type { HandOver } from './record';
import { pruneExpired } from './retention';
import { UnrecordedAttempts } from './unrecorded';
import { USER_AGENT } from './request-builder';

export { sendNow } from './attempt';

/**
 * Stage two of delivery: claim due deliveries under a lease, send them, record the outcome.
 *
 * Wake-ups come from three sources, each covering the others' gaps: LISTEN (immediate, but
 * lost while the connection is down), a poll every `pollIntervalMs` (always works, slow),
 * and a local timer for the earliest known retry (so a retry due in 50 ms is sent then, not
 * at the next poll). Every wake-up runs the same idempotent `pump`, so waking too often
 * costs a query and waking too rarely only latency.
 *
 * Many workers may share one database: claims use FOR UPDATE SKIP LOCKED and a lease
 * (`lease_expires_at`, `leased_by`), so each delivery is attempted by one worker at a time,
 * and a worker that dies leaves leases that simply expire. Delivery is at least once: an
 * attempt whose outcome could not be recorded (crash, lost lease) is made again, with the
 * same `webhook-id`, which is what receivers deduplicate on.
 *
 * A disabled webhook: fan-out gives it no new events, and its deliveries already queued
 * (retries in progress when it was disabled) are not claimed but stay pending, paused. Once
 * enabled again they go out at the next wake-up. Failing them instead would lose events
 * an operator may only have paused while fixing the receiver; keeping them costs nothing,
 * since there can only be as many as were in flight at the moment of disabling.
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
}

export interface DeliveryWorker {
  readonly workerId: string;
  /** Settles once the listener's first connection attempt and the first pump are done. */
  readonly ready: Promise<void>;
  /** Look for work now. */
  wake(): void;
  /** Resolves when no attempt is in flight and no pump is running. */
  drained(): Promise<void>;
  /** Stops claiming, waits up to `graceMs` for attempts in flight, hands the rest back. */
  stop(graceMs?: number): Promise<void>;
}

export const LISTEN_CHANNELS = { events: 'cms_domain_event', deliveries: 'cms_delivery' } as const;

const FANOUT_BATCH = 500;
/** How often a worker runs the retention job (and once at start). */
const RETENTION_EVERY_MS = 3_600_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createWebhookSender(config: Config['webhook']): HttpSender {
  return createHttpSender({ timeoutMs: config.timeoutMs, allowedCidrs: config.allowedCidrs, userAgent: USER_AGENT });
}

export function startDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { dataSource, config, log } = options;
  const workerId = options.workerId ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const sender = options.sender ?? createWebhookSender(config);
  const unrecorded = options.unrecorded ?? new UnrecordedAttempts(dataSource, log);
  const deps: AttemptDeps = { dataSource, sender, retryScheduleMs: config.retryScheduleMs, autoDisableAfterMs: config.autoDisableAfterMs, unrecorded };
  // Longer than any attempt can take (the HTTP timeout), plus room for the database writes.
  const leaseMs = config.timeoutMs + config.leaseMarginMs;

  const inFlight = new Map<string, Promise<void>>();
  const perWebhook = new Map<string, number>();
  let stopping = false;
  let eventsDirty = true;
  let pumping: Promise<void> | null = null;
  let pumpAgain = false;
  let dueTimer: NodeJS.Timeout | null = null;
  let dueAt = Infinity;
  let drainWaiters: Array<() => void> = [];

  const listener = createNotificationListener({
    databaseUrl: options.databaseUrl,
    channels: [LISTEN_CHANNELS.events, LISTEN_CHANNELS.deliveries],
    log,
    onNotification: (channel) => {
      if (channel === LISTEN_CHANNELS.events) eventsDirty = true;
      wake();
    },
    // Whatever was notified while we were not listening is found by a full sweep, and what
    // could not be logged meanwhile is logged now rather than at its next retry.
    onConnected: () => {
      eventsDirty = true;
      if (unrecorded.size > 0) void unrecorded.flush();
      wake();
    },
  });

  let pruning: Promise<void> | null = null;
  function prune(): void {
    const retentionMs = config.logRetentionMs;
    if (stopping || pruning || retentionMs === null) return;
    pruning = (async () => {
      try {
        const result = await pruneExpired(dataSource, { retentionMs, shouldStop: () => stopping });
        if (result && result.calls + result.deliveries + result.events > 0) {
          log(`retention: deleted ${result.calls} log row(s), ${result.deliveries} finished deliveries, ${result.events} dispatched event(s) past ${Math.round(retentionMs / 3_600_000)} h`);
        }
      } catch (error) {
        log(`retention: failed, next try in an hour: ${(error as Error).message}`);
      } finally {
        pruning = null;
      }
    })();
  }
  const retentionTimer = config.logRetentionMs === null ? null : setInterval(prune, RETENTION_EVERY_MS);

  const pollTimer = setInterval(() => {
    eventsDirty = true;
    wake();
    void listener.ping();
  }, config.pollIntervalMs);

  function checkDrained(): void {
    if (inFlight.size > 0 || pumping) return;
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

  /** Arms the local timer for `ms` from now, unless it is already set to fire sooner. */
  function armDueTimer(ms: number): void {
    if (stopping) return;
    const at = Date.now() + ms;
    if (dueTimer && dueAt <= at) return;
    if (dueTimer) clearTimeout(dueTimer);
    dueAt = at;
    // +2 ms: the database's clock must have passed next_attempt_at when the claim runs.
    dueTimer = setTimeout(() => {
      dueTimer = null;
      dueAt = Infinity;
      wake();
    }, Math.min(Math.max(0, Math.ceil(ms)) + 2, MAX_TIMER_MS));
  }

  async function pumpOnce(): Promise<void> {
    if (eventsDirty) {
      eventsDirty = false;
      try {
        // A full batch means more may be waiting.
        let taken = FANOUT_BATCH;
        while (!stopping && taken === FANOUT_BATCH) taken = await dispatchPendingEvents(dataSource, FANOUT_BATCH);
      } catch (error) {
        eventsDirty = true;
        throw error;
      }
    }
    const idleSlots = await claimWhileSlotsFree();
    // Only when slots are left is "nothing due" known; otherwise a finishing attempt wakes us.
    if (idleSlots && !stopping) await armForEarliestRetry();
  }

  /** Claims rounds until the slots are full or nothing more is due; true if slots are left. */
  async function claimWhileSlotsFree(): Promise<boolean> {
    for (;;) {
      if (stopping) return false;
      const free = config.concurrency - inFlight.size;
      if (free <= 0) return false;
      // Over-select: rows of a webhook that has no slot left are skipped, not claimed.
      const limit = Math.min(free * 4, 1000);
      const { selected, claimed } = await claimDueDeliveries(dataSource, {
        limit,
        free,
        perWebhookConcurrency: config.perWebhookConcurrency,
        busy: perWebhook,
        // Deliveries whose outcome waits to be logged stay ours: not claimed, not sent again.
        inFlightIds: [...inFlight.keys(), ...unrecorded.deliveryIds()],
        leaseMs,
        workerId,
      });
      claimed.forEach(startAttempt);
      // More may be due if the LIMIT was reached, or if rows were passed over for a webhook
      // that is now full (the next round excludes it in SQL and looks further).
      const passedOver = selected - claimed.length;
      if (claimed.length === 0 || (selected < limit && passedOver === 0)) return config.concurrency > inFlight.size;
    }
  }

  async function armForEarliestRetry(): Promise<void> {
    const ms = await msUntilEarliestRetry(dataSource);
    if (ms !== null) armDueTimer(ms);
  }

  function startAttempt(delivery: ClaimedDelivery): void {
    const { webhookId } = delivery;
    perWebhook.set(webhookId, (perWebhook.get(webhookId) ?? 0) + 1);
    let handedOver: ClaimedDelivery | null = null;
    const run = (async () => {
      try {
        const { webhook, kind, eventId, trigger, body } = delivery;
        const outcome = await attemptAndLog(
          deps,
          { webhook, kind, eventId, trigger, body },
          { id: delivery.id, attempts: delivery.attempts, workerId, handOver: () => handOverTerms(delivery.id) },
        );
        const what = `delivery ${delivery.id} (webhook ${webhookId}) attempt ${delivery.attempts + 1}`;
        if (!outcome.call) log(`${what}: sent, but the database is unavailable; the outcome is kept in memory and logged when it is back`);
        else if (outcome.leaseLost) log(`${what}: lease was taken over; logged the attempt, left the delivery alone`);
        else if (!outcome.result.success) {
          const reason = outcome.result.errorCode ?? 'error';
          if (outcome.retryInMs === null) log(`${what} failed (${reason}); giving up`);
          else log(`${what} failed (${reason}); retry in ${outcome.retryInMs} ms`);
        }
        if (outcome.retryInMs !== null) armDueTimer(outcome.retryInMs);
        if (outcome.next && stopping) await releaseLeases(dataSource, workerId, [outcome.next.id]);
        else handedOver = outcome.next;
      } catch (error) {
        if ((error as { driverError?: { code?: string } }).driverError?.code === '23503') {
          // The webhook was deleted during the attempt; its deliveries and log went with it.
          log(`delivery ${delivery.id}: webhook ${webhookId} was deleted during the attempt; nothing recorded`);
        } else {
          // Not recorded: the lease expires and the delivery is tried again (at least once).
          log(`delivery ${delivery.id}: attempt could not be recorded: ${(error as Error).message}`);
        }
      } finally {
        inFlight.delete(delivery.id);
        const left = (perWebhook.get(webhookId) ?? 1) - 1;
        if (left > 0) perWebhook.set(webhookId, left);
        else perWebhook.delete(webhookId);
        // The slot went to the same webhook's next delivery; otherwise it is free for a claim.
        if (handedOver) startAttempt(handedOver);
        else wake();
        checkDrained();
      }
    })();
    inFlight.set(delivery.id, run);
  }

  /**
   * A finished attempt may hand its slot to the same webhook's next due delivery only while
   * some slot of this worker is idle: then nothing else is waiting for a slot (the last claim
   * took everything due that fit), and the hand-over takes what a claim would have taken.
   * With every slot busy, the freed one goes through a claim, oldest due first across all
   * webhooks, so a webhook with a deep backlog cannot keep its slots from the others.
   */
  function handOverTerms(finishing: string): HandOver | null {
    if (stopping || inFlight.size >= config.concurrency) return null;
    return { leaseMs, inFlightIds: [...inFlight.keys()].filter((id) => id !== finishing) };
  }

  const ready = (async () => {
    log(`delivery worker ${workerId} starting`);
    await listener.start();
    wake();
    while (pumping) await pumping;
    prune();
  })();

  let stopped: Promise<void> | null = null;
  async function stop(graceMs: number = config.shutdownGraceMs): Promise<void> {
    stopping = true;
    clearInterval(pollTimer);
    if (retentionTimer) clearInterval(retentionTimer);
    if (dueTimer) clearTimeout(dueTimer);
    dueTimer = null;
    await listener.close();
    while (pumping) await pumping; // a claim in progress finishes and its attempts start
    await pruning; // ends after its current batch
    if (inFlight.size > 0) await settleWithin([...inFlight.values()], graceMs);
    // Settled before any lease is handed back: the fence on leased_by must still hold for them.
    if (unrecorded.size > 0) await unrecorded.flush();
    if (inFlight.size > 0) {
      // Handed back at once rather than left to expire, so another worker takes them now.
      const released = await releaseLeases(dataSource, workerId);
      log(`delivery worker ${workerId}: released ${released} lease(s) still in flight after ${graceMs} ms`);
    }
    if (!options.sender) sender.close();
    // Closing the sender aborts what is left; give those attempts a moment to write their log rows.
    if (inFlight.size > 0) await settleWithin([...inFlight.values()], 1_000);
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
