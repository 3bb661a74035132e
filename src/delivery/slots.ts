import type { ClaimedDelivery } from './delivery-row';

/**
 * The deliveries a worker holds a lease on, in three states:
 *
 * - ready: claimed, waiting for a slot. A worker claims up to one extra round of work
 *   (`capacity` more than it runs, and `perWebhook` more per webhook), so a slot that frees
 *   starts the next attempt at once instead of after a claim's round trip.
 * - running: the HTTP exchange is in progress. At most `capacity` in all and `perWebhook` per
 *   webhook: these are the caps receivers feel.
 * - settling: the exchange is over and the outcome is being written. No slot is held (the
 *   receiver is done with us), but the lease is, so the delivery is not claimed again.
 *
 * Ready deliveries start oldest claim first among webhooks with a free slot, and a claim
 * takes the oldest due across webhooks, so a webhook with a deep backlog cannot keep the
 * others waiting.
 */
export class SlotPool {
  private readonly ready: Array<{ delivery: ClaimedDelivery; claimedAt: number }> = [];
  private readonly running = new Map<string, ClaimedDelivery>();
  private readonly settling = new Set<string>();
  private readonly runningPerWebhook = new Map<string, number>();
  private readonly heldPerWebhook = new Map<string, number>();

  constructor(
    readonly capacity: number,
    readonly perWebhook: number,
  ) {}

  /** How many more deliveries a claim may lease now. */
  claimRoom(): number {
    return Math.max(0, 2 * this.capacity - this.running.size - this.ready.length);
  }

  /** What a claim may lease per webhook, counting what is held (ready and running). */
  get claimLimitPerWebhook(): number {
    return 2 * this.perWebhook;
  }

  /** Leases held per webhook, ready or running: what a claim must count against its limit. */
  held(): ReadonlyMap<string, number> {
    return this.heldPerWebhook;
  }

  /** Every delivery whose lease this worker holds: never to be claimed again meanwhile. */
  heldIds(): string[] {
    return [...this.ready.map((r) => r.delivery.id), ...this.running.keys(), ...this.settling];
  }

  get runningCount(): number {
    return this.running.size;
  }

  get readyCount(): number {
    return this.ready.length;
  }

  /** True while an exchange runs or an outcome is being written. */
  get busy(): boolean {
    return this.running.size > 0 || this.settling.size > 0;
  }

  /**
   * Which of these new deliveries (their webhook ids, in order) fit now, within the room and
   * each webhook's limit: what fan-out may lease as it queues them. Nothing is reserved; the
   * caller add()s what it leased before anything else claims.
   */
  plan(webhookIds: readonly string[]): boolean[] {
    let room = this.claimRoom();
    const held = new Map(this.heldPerWebhook);
    return webhookIds.map((webhookId) => {
      const n = held.get(webhookId) ?? 0;
      if (room <= 0 || n >= this.claimLimitPerWebhook) return false;
      held.set(webhookId, n + 1);
      room--;
      return true;
    });
  }

  add(claimed: readonly ClaimedDelivery[], claimedAt: number): void {
    for (const delivery of claimed) {
      this.ready.push({ delivery, claimedAt });
      bump(this.heldPerWebhook, delivery.webhookId, 1);
    }
  }

  /**
   * Moves what can run now from ready to running and returns it. Deliveries claimed before
   * `staleBefore` are returned apart: their lease may run out during the attempt, so the
   * caller hands them back instead of sending them.
   */
  take(staleBefore: number): { start: ClaimedDelivery[]; stale: ClaimedDelivery[] } {
    const start: ClaimedDelivery[] = [];
    const stale: ClaimedDelivery[] = [];
    for (let i = 0; i < this.ready.length && this.running.size < this.capacity; ) {
      const { delivery, claimedAt } = this.ready[i];
      if (claimedAt < staleBefore) {
        this.ready.splice(i, 1);
        bump(this.heldPerWebhook, delivery.webhookId, -1);
        stale.push(delivery);
        continue;
      }
      if ((this.runningPerWebhook.get(delivery.webhookId) ?? 0) >= this.perWebhook) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      this.running.set(delivery.id, delivery);
      bump(this.runningPerWebhook, delivery.webhookId, 1);
      start.push(delivery);
    }
    return { start, stale };
  }

  /** The exchange is over: the slot is free, the lease is kept until settled(). */
  exchanged(delivery: ClaimedDelivery): void {
    if (!this.running.delete(delivery.id)) return;
    bump(this.runningPerWebhook, delivery.webhookId, -1);
    bump(this.heldPerWebhook, delivery.webhookId, -1);
    this.settling.add(delivery.id);
  }

  settled(id: string): void {
    this.settling.delete(id);
  }

  /** Empties ready (at stop): these were never sent and go back to the queue. */
  drainReady(): ClaimedDelivery[] {
    const dropped = this.ready.splice(0).map((r) => r.delivery);
    for (const d of dropped) bump(this.heldPerWebhook, d.webhookId, -1);
    return dropped;
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next > 0) map.set(key, next);
  else map.delete(key);
}
