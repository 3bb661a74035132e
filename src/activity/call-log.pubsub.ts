import { Client, ClientConfig, Notification } from 'pg';
import type { WebhookCall } from '../delivery/webhook-call.entity';

/**
 * The live call log. A trigger on webhook_call raises `NOTIFY cms_webhook_call,
 * 'project:webhook:id'`, and PostgreSQL delivers a NOTIFY only once its transaction commits:
 * a row that rolls back is never announced, and a row written by any process on the same
 * database (or by hand in psql) reaches every process. Each process holds ONE dedicated
 * LISTEN connection (not a pool slot: a pool recycles connections and LISTEN is per session)
 * and fans rows out to its own subscribers.
 *
 * A NOTIFY payload is capped at 8000 bytes, so it carries ids only and the row is loaded, and
 * only when a subscriber in this process wants it. Notifications that arrive while the
 * connection is down are lost: this is a live view, and the log itself (webhookCalls) is the
 * record.
 *
 * The shape (`publish(topic, payload)`, `subscribe(topic, id)`) is the one type-graphql
 * expects of a pubSub; the topic is a project id and the dynamic id an optional webhook id.
 */
export const CALL_LOG_CHANNEL = 'cms_webhook_call';

/** A subscriber that reads slower than calls are logged loses the oldest, not the process's memory. */
export const MAX_BUFFERED_CALLS = 1000;

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

export interface CallLogPubSubOptions {
  /** How the dedicated LISTEN connection connects (the DataSource's URL). */
  connection: ClientConfig;
  /** Loads logged calls by id; ids that no longer exist are simply missing from the result. */
  load(ids: string[]): Promise<WebhookCall[]>;
  /**
   * Other channels to LISTEN on the same connection (one per process serves every live view).
   * `onConnected` runs after each (re)connection: notifications sent meanwhile were lost.
   */
  alsoListen?: ReadonlyArray<{ channel: string; onNotification(payload: string | undefined): void; onConnected(): void }>;
}

export interface CallLogStats {
  notifications: number;
  loaded: number;
  published: number;
  reconnects: number;
}

interface Announced {
  projectId: string;
  webhookId: string;
  id: string;
}

/** `project:webhook:id`, all UUIDs (which contain no colon). */
export function parseNotification(payload: string | undefined): Announced | undefined {
  const parts = (payload ?? '').split(':');
  if (parts.length !== 3 || parts.some((p) => p === '')) return undefined;
  const [projectId, webhookId, id] = parts;
  return { projectId, webhookId, id };
}

/**
 * One subscriber's stream. Not an async generator on purpose: a generator suspended in
 * `await` ignores `return()` until its next value arrives, so a client that disconnects from
 * a quiet project would stay registered forever. Here `return()` unregisters at once and
 * ends a pending `next()`.
 */
export class CallStream implements AsyncIterableIterator<WebhookCall> {
  private readonly buffer: WebhookCall[] = [];
  private waiting: ((result: IteratorResult<WebhookCall>) => void) | undefined;
  private closed = false;

  constructor(
    readonly projectId: string,
    readonly webhookId: string | null,
    private readonly onClose: (stream: CallStream) => void,
  ) {}

  wants(webhookId: string): boolean {
    return this.webhookId === null || this.webhookId === webhookId;
  }

  push(call: WebhookCall): void {
    if (this.closed) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: call, done: false });
      return;
    }
    this.buffer.push(call);
    if (this.buffer.length > MAX_BUFFERED_CALLS) this.buffer.shift();
  }

  next(): Promise<IteratorResult<WebhookCall>> {
    const value = this.buffer.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<WebhookCall>> {
    if (!this.closed) {
      this.closed = true;
      this.buffer.length = 0;
      this.onClose(this);
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<WebhookCall>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export class CallLogPubSub {
  private readonly byProject = new Map<string, Set<CallStream>>();
  private client: Client | undefined;
  private started = false;
  private stopped = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pending: Announced[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private log: (line: string) => void = () => undefined;
  private readonly counters: CallLogStats = { notifications: 0, loaded: 0, published: 0, reconnects: 0 };

  constructor(private readonly options: CallLogPubSubOptions) {}

  /** Connects and LISTENs; a failure here fails the start (the database is not reachable). */
  async start(log: (line: string) => void = () => undefined): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    this.log = log;
    await this.connect();
  }

  /** Ends every stream and closes the LISTEN connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const streams of [...this.byProject.values()]) for (const stream of [...streams]) await stream.return();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
    await this.flushing;
  }

  subscribe(projectId: string, webhookId?: string | null): CallStream {
    const stream = new CallStream(projectId, webhookId ?? null, (s) => this.remove(s));
    let streams = this.byProject.get(projectId);
    if (!streams) this.byProject.set(projectId, (streams = new Set()));
    streams.add(stream);
    return stream;
  }

  /** Hands a committed call to this process's subscribers of its project. */
  publish(projectId: string, call: WebhookCall): void {
    for (const stream of this.byProject.get(projectId) ?? []) {
      if (!stream.wants(call.webhookId)) continue;
      stream.push(call);
      this.counters.published++;
    }
  }

  subscriberCount(): number {
    let count = 0;
    for (const streams of this.byProject.values()) count += streams.size;
    return count;
  }

  stats(): CallLogStats {
    return { ...this.counters };
  }

  private remove(stream: CallStream): void {
    const streams = this.byProject.get(stream.projectId);
    if (!streams) return;
    streams.delete(stream);
    if (streams.size === 0) this.byProject.delete(stream.projectId);
  }

  private wanted(announced: Announced): boolean {
    for (const stream of this.byProject.get(announced.projectId) ?? []) if (stream.wants(announced.webhookId)) return true;
    return false;
  }

  private async connect(): Promise<void> {
    const client = new Client({ application_name: 'cms-call-log', keepAlive: true, ...this.options.connection });
    // pg emits 'error' on a broken connection; with no listener that would crash the process.
    client.on('error', (error) => this.dropped(client, error));
    client.on('end', () => this.dropped(client));
    client.on('notification', (message) => this.notified(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${CALL_LOG_CHANNEL}`);
      for (const { channel } of this.options.alsoListen ?? []) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    for (const other of this.options.alsoListen ?? []) other.onConnected();
  }

  private dropped(client: Client, error?: Error): void {
    if (this.client !== client) return; // a client we already replaced or closed
    this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.log(`live call log: LISTEN connection lost (${error?.message ?? 'closed'}); reconnecting`);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.failures);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect().then(
        () => {
          this.failures = 0;
          this.counters.reconnects++;
          this.log('live call log: LISTEN connection restored');
        },
        (error: Error) => {
          this.failures++;
          this.log(`live call log: reconnect failed (${error.message}); retrying`);
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnectTimer.unref();
  }

  private notified(message: Notification): void {
    const other = this.options.alsoListen?.find((o) => o.channel === message.channel);
    if (other) return other.onNotification(message.payload);
    if (message.channel !== CALL_LOG_CHANNEL) return;
    this.counters.notifications++;
    const announced = parseNotification(message.payload);
    if (!announced || !this.wanted(announced)) return;
    this.pending.push(announced);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Serialized, so calls reach subscribers in commit order; notifications that arrive while
    // one load runs are loaded together by the next.
    this.flushing = this.flushing.then(() => this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending.splice(0).filter((a) => this.wanted(a));
    if (batch.length === 0) return;
    let rows: WebhookCall[];
    try {
      rows = await this.options.load(batch.map((a) => a.id));
    } catch (error) {
      this.log(`live call log: could not load ${batch.length} call(s): ${(error as Error).message}`);
      return;
    }
    this.counters.loaded += rows.length;
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const announced of batch) {
      const row = byId.get(announced.id);
      if (row) this.publish(row.projectId, row);
    }
  }
}
