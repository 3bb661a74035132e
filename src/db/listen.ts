import { Client, type ClientConfig } from 'pg';
import type { Logger } from '../observability/logger';
import { listenReconnected } from '../observability/metrics';

/**
 * A dedicated PostgreSQL connection that LISTENs. Not a pool slot: LISTEN belongs to one
 * session and must outlive every query, and a pool recycles its connections.
 *
 * Notifications are a shortcut, never the record: what is announced while the connection is
 * down is lost. So on every reconnect `onConnected(false)` tells the owner to look again
 * (the worker sweeps for work, the live log re-checks access). Reconnects back off
 * exponentially with jitter, so processes that lost the database together do not return in
 * lockstep.
 *
 * One class serves the delivery worker and the API's live feeds, so there is one reconnect
 * loop to reason about.
 */

export interface ListenOptions {
  connection: ClientConfig;
  channels: readonly string[];
  onNotification(channel: string, payload: string): void;
  /** After each successful connect and LISTEN; `first` is false after a reconnect. */
  onConnected?(first: boolean): void;
  log: Logger;
  /** Names the connection in pg_stat_activity and in log lines. */
  name: string;
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export class ListenConnection {
  private client: Client | null = null;
  private closed = false;
  private failures = 0;
  private connectedOnce = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pinging = false;
  private reconnectCount = 0;

  constructor(private readonly options: ListenOptions) {}

  /** Reconnects after the first connection (a measure of how often the database went away). */
  get reconnects(): number {
    return this.reconnectCount;
  }

  get connected(): boolean {
    return this.client !== null && this.connectedOnce;
  }

  /**
   * Connects and LISTENs. A first failure rejects (the caller decides whether that is fatal)
   * and keeps retrying in the background until close().
   */
  async start(): Promise<void> {
    const error = await this.connect();
    if (error) throw error;
  }

  /** A cheap round trip, so a silently dead TCP connection is noticed and replaced. */
  async ping(): Promise<void> {
    const current = this.client;
    // pg queues a second query on a busy client, and deprecates doing so: one ping at a time.
    if (!current || this.pinging || !this.connectedOnce) return;
    this.pinging = true;
    try {
      await current.query('SELECT 1');
    } catch {
      this.drop(current);
    } finally {
      this.pinging = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const current = this.client;
    this.client = null;
    if (current) {
      current.removeAllListeners('notification');
      await current.end().catch(() => undefined);
    }
  }

  private async connect(): Promise<Error | null> {
    if (this.closed) return null;
    const next = new Client({ application_name: this.options.name, keepAlive: true, ...this.options.connection });
    this.client = next;
    next.on('notification', (message) => this.options.onNotification(message.channel, message.payload ?? ''));
    // pg emits 'error' on a broken connection; with no listener that would crash the process.
    next.on('error', (error) => {
      this.options.log.warn({ connection: this.options.name, err: error }, `${this.options.name}: LISTEN connection error`);
      this.drop(next);
    });
    next.on('end', () => this.drop(next));
    try {
      await next.connect();
      for (const channel of this.options.channels) await next.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      this.options.log.warn({ connection: this.options.name, err: error }, `${this.options.name}: cannot LISTEN`);
      this.drop(next);
      return error as Error;
    }
    if (this.closed || this.client !== next) {
      next.end().catch(() => undefined);
      return null;
    }
    const first = !this.connectedOnce;
    if (!first) {
      this.reconnectCount++;
      listenReconnected(this.options.name);
      this.options.log.info({ connection: this.options.name }, `${this.options.name}: LISTEN connection restored`);
    }
    this.connectedOnce = true;
    this.failures = 0;
    this.options.onConnected?.(first);
    return null;
  }

  private drop(which: Client): void {
    if (this.client !== which) return; // an older connection's late event
    this.client = null;
    which.removeAllListeners('notification');
    which.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.failures);
    this.failures++;
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
