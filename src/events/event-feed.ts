import type { DataSource } from 'typeorm';
import { AppError, ErrorCode } from '../common/app-error';
import type { WebhookTrigger } from '../webhooks/triggers';
import type { EventMetadata } from './domain-event.entity';
import { type Logger, silentLogger } from '../observability/logger';

/**
 * The outbox read in order, for the live event stream (webhookEvents): one process-wide tail,
 * woken by the outbox's NOTIFY, that hands each committed event to the streams of its project.
 *
 * Order and completeness rest on the event's position `(tx_id, seq)`: the inserting
 * transaction's id, then a sequence. A transaction that started earlier may commit later, so
 * positions do not appear in order; but once every transaction older than `tx_id` has ended
 * (`tx_id < pg_snapshot_xmin(...)`, evaluated in the reading statement's own snapshot), no event
 * can ever appear before it. The tail therefore hands out only such "settled" events, and a
 * stream that has passed a position never misses an event behind it. An event that committed
 * while an older transaction still runs waits for it; as that transaction may write no event
 * (and so raise no NOTIFY), the tail looks again after a short, growing delay, only then.
 *
 * A stream opened with a starting point replays from the database up to the tail's head as it
 * was when the stream joined, and the tail hands it everything after: the two meet exactly,
 * with no gap and no event twice.
 */

/** `(tx_id, seq)`, both bigints as strings (compared in SQL only). */
export interface EventPosition {
  txId: string;
  seq: string;
}

export interface FeedEvent {
  id: string;
  projectId: string;
  trigger: WebhookTrigger;
  blueprintId: string | null;
  metadata: EventMetadata;
  createdAt: Date;
  position: EventPosition;
  actorTokenId: string | null;
  causeEventId: string | null;
  causalDepth: number;
}

/** A slow subscriber is dropped (it may resume with `after`) rather than buffered without end. */
export const MAX_BUFFERED_EVENTS = 10_000;

const PAGE = 500;

interface ReplayRange {
  after: EventPosition;
  until: EventPosition;
}
const RECHECK_MIN_MS = 10;
const RECHECK_MAX_MS = 1000;

// Positions leave as text (bigints), under names of their own: ORDER BY takes an output column's
// name before a table column's, and sorting by the text would put 10 before 9.
const COLUMNS = `id, project_id, trigger, blueprint_id, metadata, created_at, tx_id::text AS tx_text, seq::text AS seq_text,
  actor_token_id, cause_event_id, causal_depth`;
const SETTLED = `tx_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint`;

interface EventRow {
  id: string;
  project_id: string;
  trigger: WebhookTrigger;
  blueprint_id: string | null;
  metadata: EventMetadata;
  created_at: Date;
  tx_text: string;
  seq_text: string;
  actor_token_id: string | null;
  cause_event_id: string | null;
  causal_depth: number;
  settled?: boolean;
}

/** `a` sorts after `b` (positions compare as (tx_id, seq), both 64-bit). */
export function isAfter(a: EventPosition, b: EventPosition): boolean {
  const [ta, tb] = [BigInt(a.txId), BigInt(b.txId)];
  return ta !== tb ? ta > tb : BigInt(a.seq) > BigInt(b.seq);
}

function toEvent(row: EventRow): FeedEvent {
  return {
    id: row.id,
    projectId: row.project_id,
    trigger: row.trigger,
    blueprintId: row.blueprint_id,
    metadata: row.metadata,
    createdAt: row.created_at,
    position: { txId: row.tx_text, seq: row.seq_text },
    actorTokenId: row.actor_token_id,
    causeEventId: row.cause_event_id,
    causalDepth: row.causal_depth,
  };
}

export class EventFeed {
  private readonly streams = new Set<EventStream>();
  /** Every settled event at or before it has been handed out; undefined while nobody listens. */
  private head: EventPosition | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readScheduled = false;
  private recheckTimer: NodeJS.Timeout | undefined;
  private recheckDelay = RECHECK_MIN_MS;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: Logger = silentLogger,
  ) {}

  /** An outbox NOTIFY arrived, or the LISTEN connection came back (notifications may have been lost). */
  wake(): void {
    if (this.stopped || this.readScheduled || this.streams.size === 0) return;
    this.readScheduled = true;
    this.serially(async () => {
      this.readScheduled = false;
      await this.readTail();
    });
  }

  /** The position of an event of `projectId`, or undefined when there is none (any more). */
  async positionOf(projectId: string, eventId: string): Promise<EventPosition | undefined> {
    const rows: Array<{ tx_id: string; seq: string }> = await this.dataSource.query(
      `SELECT tx_id::text AS tx_id, seq::text AS seq FROM domain_event WHERE id = $1 AND project_id = $2`,
      [eventId, projectId],
    );
    return rows[0] ? { txId: rows[0].tx_id, seq: rows[0].seq } : undefined;
  }

  /** How many events of the project follow `after`, counting up to `cap` + 1 at most. */
  async countAfter(projectId: string, after: EventPosition, cap: number): Promise<number> {
    const [{ count }] = await this.dataSource.query(
      `SELECT count(*)::int AS count FROM (
         SELECT 1 FROM domain_event WHERE project_id = $1 AND (tx_id, seq) > ($2::bigint, $3::bigint) LIMIT $4) AS x`,
      [projectId, after.txId, after.seq, cap + 1],
    );
    return count;
  }

  /**
   * A stream of the project's events that `wants`, in order: those after `after` (replayed
   * from the database), then each new one as it commits. Without `after`, from now on.
   */
  async open(projectId: string, wants: (event: FeedEvent) => boolean, after?: EventPosition): Promise<EventStream> {
    const stream = await this.serially(async () => {
      // Nobody listened, so the head is stale (or unset): "now" is every transaction that has ended.
      if (this.streams.size === 0 || !this.head) this.head = await this.currentHead();
      const read = (range: ReplayRange) => this.readRange(projectId, range);
      const joined = new EventStream(projectId, wants, after, this.head, read, (s) => this.streams.delete(s));
      this.streams.add(joined);
      return joined;
    });
    // Events of this project past the head may have been announced before it had a listener here.
    this.wake();
    return stream;
  }

  /** Ends every stream; later notifications are ignored. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.recheckTimer) clearTimeout(this.recheckTimer);
    for (const stream of [...this.streams]) await stream.return();
    await this.queue;
  }

  subscriberCount(): number {
    return this.streams.size;
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async currentHead(): Promise<EventPosition> {
    // (xmin, 0) sorts after every event of an ended transaction and before any other.
    const [{ xmin }] = await this.dataSource.query(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin`);
    return { txId: xmin, seq: '0' };
  }

  private async readTail(): Promise<void> {
    if (this.stopped || this.streams.size === 0 || !this.head) return;
    const projects = [...new Set([...this.streams].map((s) => s.projectId))];
    let waiting = false;
    try {
      for (;;) {
        const rows: EventRow[] = await this.dataSource.query(
          `SELECT ${COLUMNS}, ${SETTLED} AS settled FROM domain_event
            WHERE (tx_id, seq) > ($1::bigint, $2::bigint) AND project_id = ANY($3::uuid[])
            ORDER BY tx_id, seq LIMIT $4`,
          [this.head.txId, this.head.seq, projects, PAGE],
        );
        // Rows come in position order and `settled` falls with tx_id: the settled ones are a prefix.
        const settled = rows.filter((row) => row.settled);
        waiting = settled.length < rows.length;
        for (const row of settled) {
          const event = toEvent(row);
          for (const stream of this.streams) if (stream.projectId === event.projectId) stream.push(event);
          this.head = event.position;
        }
        if (rows.length < PAGE || waiting) break;
      }
    } catch (error) {
      // The next NOTIFY (or the recheck) reads again from the same head: nothing is skipped.
      this.log.error({ err: error }, 'event stream: could not read the outbox');
      waiting = true;
    }
    this.scheduleRecheck(waiting);
  }

  private scheduleRecheck(waiting: boolean): void {
    if (!waiting) {
      this.recheckDelay = RECHECK_MIN_MS;
      return;
    }
    if (this.recheckTimer || this.stopped) return;
    const delay = this.recheckDelay;
    this.recheckDelay = Math.min(RECHECK_MAX_MS, delay * 2);
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      this.wake();
    }, delay);
    this.recheckTimer.unref();
  }

  private async readRange(projectId: string, range: ReplayRange): Promise<FeedEvent[]> {
    const rows: EventRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM domain_event
        WHERE project_id = $1 AND (tx_id, seq) > ($2::bigint, $3::bigint) AND (tx_id, seq) <= ($4::bigint, $5::bigint)
        ORDER BY tx_id, seq LIMIT $6`,
      [projectId, range.after.txId, range.after.seq, range.until.txId, range.until.seq, PAGE],
    );
    return rows.map(toEvent);
  }
}

/**
 * One subscriber: first the replay (read page by page from the database as the subscriber
 * asks), then the events the tail pushed meanwhile and after. Not an async generator, so that
 * `return()` takes effect at once even while `next()` waits (see CallStream).
 */
export class EventStream implements AsyncIterableIterator<FeedEvent> {
  private readonly live: FeedEvent[] = [];
  private page: FeedEvent[] = [];
  private replayFrom: EventPosition | undefined;
  private waiting: { resolve: (result: IteratorResult<FeedEvent>) => void; reject: (error: unknown) => void } | undefined;
  private failure: unknown;
  private closed = false;
  private readonly ended: Array<() => void> = [];

  constructor(
    readonly projectId: string,
    private readonly wants: (event: FeedEvent) => boolean,
    /** Undefined: no replay, only what the tail hands on from now. */
    private readonly after: EventPosition | undefined,
    private readonly replayUntil: EventPosition,
    private readonly read: (range: ReplayRange) => Promise<FeedEvent[]>,
    private readonly onClose: (stream: EventStream) => void,
  ) {
    this.replayFrom = after;
  }

  push(event: FeedEvent): void {
    if (this.closed || this.failure || !this.wants(event)) return;
    // `after` may lie past the boundary (an id taken from a webhook request whose transaction
    // is not settled yet): what the tail hands on up to it was not asked for.
    if (this.after && !isAfter(event.position, this.after)) return;
    if (this.waiting && this.replayFrom === undefined && this.page.length === 0) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    this.live.push(event);
    if (this.live.length > MAX_BUFFERED_EVENTS) {
      // "Try again": nothing is lost, a new subscription with `after` replays from the database.
      this.failure = new AppError(
        ErrorCode.SERVICE_UNAVAILABLE,
        `webhookEvents: this subscriber fell more than ${MAX_BUFFERED_EVENTS} events behind; subscribe again with after = the last event id received`,
      );
      this.live.length = 0;
      this.end();
      this.settle();
    }
  }

  async next(): Promise<IteratorResult<FeedEvent>> {
    while (this.replayFrom !== undefined && this.page.length === 0 && !this.closed) {
      const rows = await this.read({ after: this.replayFrom, until: this.replayUntil });
      this.replayFrom = rows.length === 0 ? undefined : rows[rows.length - 1].position;
      this.page = rows.filter(this.wants);
    }
    if (this.closed) return { value: undefined, done: true };
    const value = this.page.shift() ?? this.live.shift();
    if (value) return { value, done: false };
    if (this.failure) throw this.failure;
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<FeedEvent>> {
    if (!this.closed) {
      this.closed = true;
      this.live.length = 0;
      this.page = [];
      this.end();
      this.settle();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Ends the stream with `error` once what was already handed on is read (an access change, see AccessWatch). */
  fail(error: unknown): void {
    if (this.closed || this.failure) return;
    this.failure = error;
    this.live.length = 0;
    this.page = [];
    this.replayFrom = undefined;
    this.end();
    this.settle();
  }

  onEnd(callback: () => void): void {
    this.ended.push(callback);
  }

  private end(): void {
    this.onClose(this);
    for (const callback of this.ended.splice(0)) callback();
  }

  throw(error?: unknown): Promise<IteratorResult<FeedEvent>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Wakes a pending `next()` with the end of the stream or its failure. */
  private settle(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    if (!waiting) return;
    if (this.failure && !this.closed) waiting.reject(this.failure);
    else waiting.resolve({ value: undefined, done: true });
  }
}
