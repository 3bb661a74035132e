import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../db/errors';
import type { SettleHealth } from '../health/health.rules';
import { type SettleEntry, settleOutcomes } from './queue';
import type { Logger } from '../observability/logger';

/**
 * Attempts that went out while the database could not take their outcome. The request was
 * made, so the log must say so: each is kept here and written, in order, once PostgreSQL
 * answers again, with the time it was really made. Until then its delivery stays leased to
 * this worker and is not claimed again, so an attempt the receiver already accepted is not
 * sent twice (unless the outage outlasts the lease and another worker takes it over: at
 * least once, as always).
 *
 * Bounded: a worker cannot claim while the database is away, so at most its in-flight
 * attempts (and the API's test sends) land here; the caps are a guard, and what they drop is
 * said in the log. A process that stops before the database returns loses what is kept.
 */
export const MAX_KEPT_ATTEMPTS = 10_000;
export const MAX_KEPT_BYTES = 64 * 1024 * 1024;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;

export class UnrecordedAttempts {
  private readonly kept: Array<SettleEntry & { bytes: number }> = [];
  private bytes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: Logger,
    private readonly limits = { attempts: MAX_KEPT_ATTEMPTS, bytes: MAX_KEPT_BYTES },
    private readonly health?: SettleHealth,
  ) {}

  get size(): number {
    return this.kept.length;
  }

  /** Deliveries whose last attempt waits here: not to be claimed again meanwhile. */
  deliveryIds(): string[] {
    return this.kept.flatMap((k) => (k.delivery ? [k.delivery.id] : []));
  }

  keep(entry: SettleEntry): void {
    const bytes = entry.call.requestBody.length + (entry.call.responseBody?.length ?? 0) + 1024;
    // Logged with the time it was made, not the time the database came back.
    const createdAt = entry.call.createdAt ?? new Date(Date.now() - entry.call.durationMs);
    this.kept.push({ ...entry, call: { ...entry.call, createdAt }, bytes });
    this.bytes += bytes;
    let dropped = 0;
    while (this.kept.length > this.limits.attempts || (this.bytes > this.limits.bytes && this.kept.length > 1)) {
      this.bytes -= this.kept.shift()!.bytes;
      dropped++;
    }
    if (dropped > 0) this.log.error({ dropped }, `unrecorded attempts: over ${this.limits.attempts} attempts or ${this.limits.bytes} bytes kept; dropped the ${dropped} oldest`);
    this.schedule();
  }

  /** Writes what is kept, oldest first; stops at the first outage and tries again later. */
  flush(): Promise<void> {
    return (this.flushing ??= this.writeKept().finally(() => (this.flushing = null)));
  }

  /** One last try, then whatever is still kept is given up (and said so). */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.kept.length > 0) await this.flush();
    this.closed = true;
    if (this.kept.length > 0) this.log.error({ lost: this.kept.length }, `unrecorded attempts: ${this.kept.length} attempt(s) made while the database was unavailable could not be logged before stopping`);
  }

  private schedule(): void {
    if (this.closed || this.timer || this.kept.length === 0) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.failures);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, delay);
    this.timer.unref();
  }

  private async writeKept(): Promise<void> {
    let written = 0;
    while (this.kept.length > 0) {
      const next = this.kept[0];
      try {
        await settleOutcomes(this.dataSource, [next], this.health);
        written++;
      } catch (error) {
        if (isDatabaseUnavailable(error)) {
          this.failures++;
          break;
        }
        // Not an outage (e.g. the webhook was deleted meanwhile, and its log with it): this
        // row can never be written, and keeping it would hold up the ones behind it.
        this.log.error({ deliveryId: next.delivery?.id, webhookId: next.call.webhookId, eventId: next.call.eventId, err: error }, `unrecorded attempts: dropped the attempt of delivery ${next.delivery?.id ?? '(send)'} (webhook ${next.call.webhookId})`);
      }
      this.kept.shift();
      this.bytes -= next.bytes;
    }
    if (this.kept.length === 0) this.failures = 0;
    if (written > 0) this.log.info({ written }, `unrecorded attempts: logged ${written} attempt(s) made while the database was unavailable`);
    this.schedule();
  }
}
