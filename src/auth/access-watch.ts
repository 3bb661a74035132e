import { isUuid } from '../common/app-error';
import { CHANNELS } from '../db/names';
import type { Actor } from './actor';

/**
 * Ends what a caller may no longer have, as soon as the database says so. HTTP requests need
 * none of this (each authenticates anew); a WebSocket connection authenticates once and a
 * live stream checks the caller's role once, so both are kept here and re-checked when
 * triggers on api_token, app_user and project_member announce a change on CHANNELS.access
 * (migrations/1764300000000-TokenRevocation.ts). A NOTIFY arrives only after its transaction
 * commits, so the re-check sees the change.
 *
 * - a token revoked or deleted, or its user deleted: the connection closes with 4401;
 * - a user no longer super-admin: the connection's actor is refreshed and its streams re-checked;
 * - a membership removed or changed: that member's streams of that project are re-checked and
 *   end with the check's error (NOT_FOUND, FORBIDDEN);
 * - the LISTEN connection came back (what was announced meanwhile is lost), or a TRUNCATE:
 *   everything is re-checked.
 *
 * A re-check that fails (the database answers an error) ends what it was checking: access
 * that cannot be confirmed is not assumed.
 */

/** 4401 as graphql-ws uses it for "Unauthorized"; the reason carries the GraphQL code. */
export const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_RECHECK_FAILED = 1011;

/** Streams are re-checked a few at a time, so a reconnect with many open does not drain the pool. */
const STREAM_RECHECK_CONCURRENCY = 4;

export type AccessChange =
  | { kind: 'token'; id: string }
  | { kind: 'user'; id: string }
  | { kind: 'member'; projectId: string; userId: string }
  | { kind: 'all' };

export function parseAccessChange(payload: string): AccessChange | undefined {
  if (payload === 'all') return { kind: 'all' };
  const [kind, ...ids] = payload.split(':');
  if (!ids.every(isUuid)) return undefined;
  if ((kind === 'token' || kind === 'user') && ids.length === 1) return { kind, id: ids[0] };
  if (kind === 'member' && ids.length === 2) return { kind, projectId: ids[0], userId: ids[1] };
  return undefined;
}

export interface AccessIdentity {
  authenticate(token: string | undefined): Promise<Actor | null>;
  /** The actors of those tokens that still authenticate (not revoked, user not deleted), by token id. */
  actorsForTokens(tokenIds: string[]): Promise<Map<string, Actor>>;
}

/** A WebSocket connection's authentication; end() when the connection closes. */
export interface Session {
  readonly actor: Actor;
  end(): void;
}

/** What a guarded stream must offer: ending with an error, and saying when it ended. */
export interface GuardedStream {
  fail(error: unknown): void;
  onEnd(callback: () => void): void;
}

interface SessionEntry {
  actor: Actor;
  close(code: number, reason: string): void;
  open: boolean;
}

interface StreamEntry {
  actor: Actor;
  projectId: string;
  check(): Promise<void>;
  stream: GuardedStream;
  open: boolean;
}

export class AccessWatch {
  private readonly sessions = new Set<SessionEntry>();
  private readonly streams = new Set<StreamEntry>();
  /** Counts batches of changes: whoever authenticated across one looks again (see openSession). */
  private generation = 0;
  private received = 0;

  constructor(private readonly identity: AccessIdentity) {}

  /**
   * Authenticates a connection and keeps it under watch until end(). `close` is how the watch
   * ends it. Null when the token does not authenticate.
   */
  async openSession(token: string | undefined, close: (code: number, reason: string) => void): Promise<Session | null> {
    const seen = this.generation;
    const actor = await this.identity.authenticate(token);
    if (!actor) return null;
    const entry: SessionEntry = { actor, close, open: true };
    this.sessions.add(entry);
    // A change announced while the token was being looked up found no session here to end.
    if (this.generation !== seen) await this.recheckSessions([entry]);
    if (!entry.open) return null;
    return {
      actor,
      end: () => {
        entry.open = false;
        this.sessions.delete(entry);
      },
    };
  }

  /**
   * Runs `check` (which throws when `actor` may not watch `projectId`), then opens the stream
   * and runs `check` again whenever the caller's access to the project may have changed; when
   * it throws, the stream fails with that error.
   */
  async openStream<T extends GuardedStream>(actor: Actor, projectId: string, check: () => Promise<void>, open: () => T | Promise<T>): Promise<T> {
    const seen = this.generation;
    await check();
    const stream = await open();
    const entry: StreamEntry = { actor, projectId, check, stream, open: true };
    this.streams.add(entry);
    stream.onEnd(() => {
      entry.open = false;
      this.streams.delete(entry);
    });
    if (this.generation !== seen) await this.recheckStreams([entry]);
    return stream;
  }

  /** A batch of CHANNELS.access payloads, in commit order. */
  async notified(payloads: string[]): Promise<void> {
    this.generation++;
    this.received += payloads.length;
    const changes = payloads.map(parseAccessChange).filter((c): c is AccessChange => c !== undefined);
    if (changes.some((c) => c.kind === 'all')) return this.recheckAll();
    const tokens = new Set<string>();
    const users = new Set<string>();
    const members = new Set<string>();
    for (const change of changes) {
      if (change.kind === 'token') tokens.add(change.id);
      else if (change.kind === 'user') users.add(change.id);
      else if (change.kind === 'member') members.add(`${change.projectId}:${change.userId}`);
    }
    // Connections first: a deleted user's connection closes as UNAUTHENTICATED rather than
    // each stream ending with NOT_FOUND as the memberships vanish with the user.
    await this.recheck(
      [...this.sessions].filter((s) => tokens.has(s.actor.tokenId) || users.has(s.actor.user.id)),
      () => [...this.streams].filter((s) => users.has(s.actor.user.id) || members.has(`${s.projectId}:${s.actor.user.id}`)),
    );
  }

  async restored(): Promise<void> {
    this.generation++;
    await this.recheckAll();
  }

  stats(): { sessions: number; streams: number; notifications: number } {
    return { sessions: this.sessions.size, streams: this.streams.size, notifications: this.received };
  }

  private recheckAll(): Promise<void> {
    return this.recheck([...this.sessions], () => [...this.streams]);
  }

  /** Sessions, then the streams still open: a failed session lookup must not spare the streams. */
  private async recheck(sessions: SessionEntry[], streams: () => StreamEntry[]): Promise<void> {
    const failed = await this.recheckSessions(sessions).then(
      () => undefined,
      (error: unknown) => ({ error }),
    );
    await this.recheckStreams(streams());
    if (failed) throw failed.error;
  }

  /** One query for all of them. */
  private async recheckSessions(entries: SessionEntry[]): Promise<void> {
    if (entries.length === 0) return;
    let current: Map<string, Actor>;
    try {
      current = await this.identity.actorsForTokens([...new Set(entries.map((e) => e.actor.tokenId))]);
    } catch (error) {
      for (const entry of entries) this.endSession(entry, CLOSE_RECHECK_FAILED, 'Could not re-check the token; reconnect');
      throw error;
    }
    for (const entry of entries) {
      if (!entry.open) continue;
      const actor = current.get(entry.actor.tokenId);
      if (!actor) {
        this.endSession(entry, CLOSE_UNAUTHENTICATED, 'UNAUTHENTICATED: the token was revoked or its user deleted');
        continue;
      }
      // In place: the connection's later subscriptions and its open streams share this object.
      entry.actor.user = actor.user;
      entry.actor.isSuperAdmin = actor.isSuperAdmin;
    }
  }

  private endSession(entry: SessionEntry, code: number, reason: string): void {
    if (!entry.open) return;
    entry.open = false;
    this.sessions.delete(entry);
    entry.close(code, reason);
  }

  private async recheckStreams(entries: StreamEntry[]): Promise<void> {
    const queue = [...entries];
    const worker = async () => {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        if (!entry.open) continue;
        try {
          await entry.check();
        } catch (error) {
          entry.stream.fail(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(STREAM_RECHECK_CONCURRENCY, queue.length) }, worker));
  }
}
