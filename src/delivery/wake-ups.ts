import { ListenConnection } from '../db/listen';
import { CHANNELS } from '../db/names';
import type { Logger } from '../observability/logger';

/**
 * When a worker looks for work. Three sources, each covering the others' gaps: LISTEN
 * (immediate, but lost while the connection is down), a poll every `pollIntervalMs` (always
 * works, slow), and a local timer for the earliest known retry (so a retry due in 50 ms is
 * sent then, not at the next poll). Every wake-up runs the same idempotent pump, so waking
 * too often costs a query and waking too rarely only latency.
 */

export interface WakeUpsOptions {
  databaseUrl: string;
  pollIntervalMs: number;
  log: Logger;
  /**
   * `events`: new outbox rows may be waiting to be fanned out (or it is not known).
   * `sweep`: a poll or a reconnect, after which anything may have changed, retries scheduled
   * by other workers included.
   */
  wake(reason: { events: boolean; sweep?: boolean }): void;
  /** The LISTEN connection (re)connected: what was announced meanwhile was missed. */
  connected?(): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class WakeUps {
  private readonly listener: ListenConnection;
  private pollTimer: NodeJS.Timeout | null = null;
  private dueTimer: NodeJS.Timeout | null = null;
  private dueAt = Infinity;
  private stopped = false;

  constructor(private readonly options: WakeUpsOptions) {
    this.listener = new ListenConnection({
      connection: { connectionString: options.databaseUrl },
      channels: [CHANNELS.domainEvents, CHANNELS.deliveries],
      name: 'cms-webhooks-listener',
      log: options.log,
      onNotification: (channel) => options.wake({ events: channel === CHANNELS.domainEvents }),
      onConnected: () => {
        options.connected?.();
        options.wake({ events: true, sweep: true });
      },
    });
  }

  /** Resolves once the first connection attempt is over, successful or not (polling covers a failure). */
  async start(): Promise<void> {
    this.pollTimer = setInterval(() => {
      this.options.wake({ events: true, sweep: true });
      void this.listener.ping();
    }, this.options.pollIntervalMs);
    await this.listener.start().catch(() => undefined);
  }

  /** Wakes the worker in `ms`, unless a wake-up is already set sooner. */
  at(ms: number): void {
    if (this.stopped) return;
    const at = Date.now() + ms;
    if (this.dueTimer && this.dueAt <= at) return;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueAt = at;
    // +2 ms: the database's clock must have passed next_attempt_at when the claim runs.
    this.dueTimer = setTimeout(() => {
      this.dueTimer = null;
      this.dueAt = Infinity;
      this.options.wake({ events: false });
    }, Math.min(Math.max(0, Math.ceil(ms)) + 2, MAX_TIMER_MS));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.pollTimer = this.dueTimer = null;
    await this.listener.close();
  }
}
