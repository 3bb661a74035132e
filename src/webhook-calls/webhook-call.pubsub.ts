import type { ClientConfig } from 'pg';
import { ListenConnection } from '../db/listen';
import { CHANNELS } from '../db/names';
import type { WebhookCall } from './webhook-call.entity';
import { type Logger, silentLogger } from '../observability/logger';

/**
 * The live call log. A statement-level trigger on webhook_call raises `NOTIFY
 * cms_webhook_call, 'project:webhook:id,project:webhook:id,…'`, and PostgreSQL delivers a NOTIFY only once its transaction commits:
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
 * The same connection carries other channels registered with listen() (access changes, see
 * src/auth/access-watch.ts), so a process holds one LISTEN connection however many it needs.
 *
 * The shape (`publish(topic, payload)`, `subscribe(topic, id)`) is the one type-graphql
 * expects of a pubSub; the topic is a project id and the dynamic id an optional webhook id.
 */

/** A subscriber that reads slower than calls are logged loses the oldest, not the process's memory. */
export const MAX_BUFFERED_CALLS = 1000;

export interface WebhookCallPubSubOptions {
  /** How the dedicated LISTEN connection connects (the DataSource's URL). */
  connection: ClientConfig;
  /** Loads logged calls by id; ids that no longer exist are simply missing from the result. */
  load(ids: string[]): Promise<WebhookCall[]>;
}

export interface WebhookCallPubSubStats {
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

/** Comma-separated `project:webhook:id` entries, all UUIDs (which contain neither separator); malformed entries are skipped. */
export function parseNotification(payload: string | undefined): Announced[] {
  const announced: Announced[] = [];
  for (const entry of (payload ?? '').split(',')) {
    const parts = entry.split(':');
    if (parts.length !== 3 || parts.some((p) => p === '')) continue;
    const [projectId, webhookId, id] = parts;
    announced.push({ projectId, webhookId, id });
  }
  return announced;
}

/**
 * One subscriber's stream (of calls, or of anything else announced per project, such as health
 * changes). Not an async generator on purpose: a generator suspended in
 * `await` ignores `return()` until its next value arrives, so a client that disconnects from
 * a quiet project would stay registered forever. Here `return()` unregisters at once and
 * ends a pending `next()`.
 */
export class CallStream<T = WebhookCall> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  private closed = false;
  /** Set by fail() when no next() was waiting: the next one rejects with it, once. */
  private failure: { error: unknown } | undefined;
  private readonly ended: Array<() => void> = [];

  constructor(
    readonly projectId: string,
    readonly webhookId: string | null,
    private readonly onClose: (stream: CallStream<T>) => void,
  ) {}

  wants(webhookId: string): boolean {
    return this.webhookId === null || this.webhookId === webhookId;
  }

  push(call: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: call, done: false });
      return;
    }
    this.buffer.push(call);
    if (this.buffer.length > MAX_BUFFERED_CALLS) this.buffer.shift();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    const value = this.buffer.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /**
   * Ends the stream with `error` (the subscriber lost access): calls still buffered are
   * dropped, not handed to someone no longer allowed to see them.
   */
  fail(error: unknown): void {
    if (this.closed) return;
    const waiting = this.waiting;
    this.waiting = undefined;
    this.close();
    if (waiting) waiting.reject(error);
    else this.failure = { error };
  }

  /** `callback` runs once when the stream ends, however it ends. */
  onEnd(callback: () => void): void {
    if (this.closed) callback();
    else this.ended.push(callback);
  }

  return(): Promise<IteratorResult<T>> {
    const waiting = this.waiting;
    this.waiting = undefined;
    this.close();
    waiting?.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer.length = 0;
    this.onClose(this);
    for (const callback of this.ended.splice(0)) callback();
  }
}

/**
 * Another channel on the same LISTEN connection. Its batches run in the same serialized order
 * as the loading and publishing of calls, so a call announced after a change of access is
 * published only once that change has been acted on.
 */
export interface ChannelHandler {
  notified(payloads: string[]): Promise<void>;
  /** The connection came back: notifications sent while it was down are lost, so re-check everything. */
  restored(): Promise<void>;
}

export class WebhookCallPubSub {
  private readonly byProject = new Map<string, Set<CallStream>>();
  private connection: ListenConnection | undefined;
  private started = false;
  private stopped = false;
  private pending: Announced[] = [];
  private readonly channels = new Map<string, { handler: ChannelHandler; pending: string[]; restored: boolean }>();
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private log: Logger = silentLogger;
  private readonly counters: WebhookCallPubSubStats = { notifications: 0, loaded: 0, published: 0, reconnects: 0 };

  constructor(private readonly options: WebhookCallPubSubOptions) {}

  /** Connects and LISTENs; a failure here fails the start (the database is not reachable). */
  async start(log: Logger = silentLogger): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopped = false;
    this.log = log;
    const connection = new ListenConnection({
      connection: this.options.connection,
      channels: [CHANNELS.webhookCalls, ...this.channels.keys()],
      name: 'cms-call-log',
      log,
      onNotification: (channel, payload) => this.notified(channel, payload),
      onConnected: (first) => {
        if (first) return;
        this.counters.reconnects++;
        for (const channel of this.channels.values()) channel.restored = true;
        this.schedule();
      },
    });
    this.connection = connection;
    try {
      await connection.start();
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  /** Ends every stream and closes the LISTEN connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const streams of [...this.byProject.values()]) for (const stream of [...streams]) await stream.return();
    await this.connection?.close();
    this.connection = undefined;
    await this.flushing;
  }

  /** Also LISTEN on `channel` (before start()): one connection per process serves every channel. */
  listen(channel: string, handler: ChannelHandler): void {
    if (this.started) throw new Error(`listen(${channel}) after start()`);
    this.channels.set(channel, { handler, pending: [], restored: false });
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

  stats(): WebhookCallPubSubStats {
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

  private notified(name: string, payload: string): void {
    const channel = this.channels.get(name);
    if (channel) {
      channel.pending.push(payload);
      this.schedule();
      return;
    }
    if (name !== CHANNELS.webhookCalls) return;
    let wanted = false;
    for (const announced of parseNotification(payload)) {
      this.counters.notifications++;
      if (!this.wanted(announced)) continue;
      this.pending.push(announced);
      wanted = true;
    }
    if (wanted) this.schedule();
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Serialized, so calls reach subscribers in commit order; notifications that arrive while
    // one load runs are loaded together by the next.
    this.flushing = this.flushing.then(() => this.flush());
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    // Other channels first (access changes): a call is handed on only after every change
    // announced before it has been acted on.
    for (const [name, channel] of this.channels) {
      const restored = channel.restored;
      const payloads = channel.pending.splice(0);
      channel.restored = false;
      try {
        if (restored) await channel.handler.restored();
        if (payloads.length > 0) await channel.handler.notified(payloads);
      } catch (error) {
        this.log.error({ err: error }, `${name}: could not act on ${restored ? 'the reconnect' : `${payloads.length} notification(s)`}`);
      }
    }
    const batch = this.pending.splice(0).filter((a) => this.wanted(a));
    if (batch.length === 0) return;
    let rows: WebhookCall[];
    try {
      rows = await this.options.load(batch.map((a) => a.id));
    } catch (error) {
      this.log.error({ err: error }, `live call log: could not load ${batch.length} call(s)`);
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
