import { Client } from 'pg';

/**
 * A dedicated PostgreSQL connection that LISTENs for wake-ups. It is not taken from the
 * pool because a LISTEN belongs to one session and must outlive every query; a pooled
 * connection would be handed back and the subscription lost with it.
 *
 * Notifications are only a shortcut: the worker also polls, so a dropped connection costs
 * latency, never events. On a drop the listener reconnects with capped exponential backoff
 * and reports `onConnected`, after which the caller should look for work it may have missed.
 */

export interface NotificationListenerOptions {
  databaseUrl: string;
  channels: readonly string[];
  onNotification: (channel: string, payload: string | undefined) => void;
  onConnected: () => void;
  log: (line: string) => void;
  applicationName?: string;
}

export interface NotificationListener {
  /** Resolves once the first connection attempt has finished (successful or not). */
  start(): Promise<void>;
  /** A cheap round trip, so a silently dead TCP connection is noticed and replaced. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 30_000;

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function createNotificationListener(options: NotificationListenerOptions): NotificationListener {
  let client: Client | null = null;
  let closed = false;
  let failures = 0;
  let reconnectTimer: NodeJS.Timeout | null = null;

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** failures);
    failures += 1;
    // Full jitter: several workers that lost the database together do not return in lockstep.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    options.log(`listener: reconnecting in ${delay} ms`);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void connect();
    }, delay);
  }

  function drop(which: Client): void {
    if (client !== which) return; // an older connection's late event
    client = null;
    which.removeAllListeners('notification');
    which.end().catch(() => undefined);
    scheduleReconnect();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const next = new Client({
      connectionString: options.databaseUrl,
      application_name: options.applicationName ?? 'cms-webhooks-listener',
      keepAlive: true,
    });
    client = next;
    next.on('notification', (message) => options.onNotification(message.channel, message.payload));
    next.on('error', (error) => {
      options.log(`listener: connection error: ${error.message}`);
      drop(next);
    });
    next.on('end', () => drop(next));
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (error) {
      options.log(`listener: cannot listen: ${(error as Error).message}`);
      drop(next);
      return;
    }
    if (closed || client !== next) {
      next.end().catch(() => undefined);
      return;
    }
    failures = 0;
    options.onConnected();
  }

  return {
    start: () => connect(),
    async ping() {
      const current = client;
      if (!current) return;
      try {
        await current.query('SELECT 1');
      } catch {
        drop(current);
      }
    },
    async close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      reconnectTimer = null;
      const current = client;
      client = null;
      if (current) {
        current.removeAllListeners('notification');
        await current.end().catch(() => undefined);
      }
    },
  };
}
