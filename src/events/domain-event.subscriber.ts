import { EntityManager, EntitySubscriberInterface, EventSubscriber, InsertEvent, ObjectLiteral, QueryRunner, RemoveEvent, UpdateEvent } from 'typeorm';
import { Blueprint } from '../cms/blueprint.entity';
import { Document } from '../cms/document.entity';
import { ProjectMember } from '../cms/project-member.entity';
import type { DeliveryCause } from './delivery-cause';
import { DomainEvent } from './domain-event.entity';
import { blueprintEvents, ChangeKind, documentEvents, EventDraft, memberEvents } from './event-mapping';
import { activeTraceparent } from '../observability/tracing';

type Mapper = (kind: ChangeKind, before: any, after: any, ctx: { actorId: string | null; now: Date }) => EventDraft[];

const MAPPERS = new Map<Function, Mapper>([
  [Document, documentEvents],
  [Blueprint, blueprintEvents],
  [ProjectMember, memberEvents],
]);

/**
 * Saving several entities in one call runs their hooks concurrently on the transaction's one
 * connection, which pg does not allow; writes of one QueryRunner therefore queue behind each other.
 */
const queues = new WeakMap<QueryRunner, Promise<unknown>>();

function enqueue(runner: QueryRunner, write: () => Promise<unknown>): Promise<unknown> {
  const next = (queues.get(runner) ?? Promise.resolve()).then(write);
  queues.set(runner, next.catch(() => undefined));
  return next;
}

/** Set on the QueryRunner by the service layer so events can name who caused them. */
export interface ChangeContext {
  actorId?: string | null;
  tokenId?: string | null;
  /** The delivery the request handles, as its headers claimed: checked once per transaction. */
  cause?: DeliveryCause | null;
  /** What `cause` turned out to be; set on first use. */
  resolvedCause?: Promise<ResolvedCause | null>;
}

interface ResolvedCause {
  eventId: string;
  projectId: string;
  depth: number;
  /** Null when not given, or not a webhook of the cause's project. */
  webhookId: string | null;
}

/**
 * The claimed cause, if it is an event that exists; an id from elsewhere is ignored by the
 * caller (its project differs). Read in the change's transaction, once.
 */
async function resolveCause(manager: EntityManager, cause: DeliveryCause): Promise<ResolvedCause | null> {
  const rows: Array<{ project_id: string; causal_depth: number; webhook_id: string | null }> = await manager.query(
    `SELECT e.project_id, e.causal_depth, w.id AS webhook_id
       FROM domain_event e LEFT JOIN webhook w ON w.id = $2 AND w.project_id = e.project_id
      WHERE e.id = $1`,
    [cause.eventId, cause.webhookId],
  );
  if (rows.length === 0) return null;
  return { eventId: cause.eventId, projectId: rows[0].project_id, depth: rows[0].causal_depth, webhookId: rows[0].webhook_id };
}

/**
 * The transactional outbox writer. It runs inside the transaction of the change and writes
 * with `event.manager`, so an event exists exactly when its change committed. It does one
 * insert and nothing else: matching webhooks and HTTP happen in the worker, after commit.
 */
@EventSubscriber()
export class DomainEventSubscriber implements EntitySubscriberInterface {
  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    await this.capture(event, 'insert', undefined, event.entity);
  }

  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    // Bulk QueryBuilder updates carry no old row: the CMS never writes that way (see cms services).
    if (!event.databaseEntity || !event.entity) return;
    await this.capture(event, 'update', event.databaseEntity, { ...event.databaseEntity, ...event.entity });
  }

  async afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    if (!event.databaseEntity) return;
    await this.capture(event, 'remove', event.databaseEntity, undefined);
  }

  private async capture(
    event: InsertEvent<ObjectLiteral> | UpdateEvent<ObjectLiteral> | RemoveEvent<ObjectLiteral>,
    kind: ChangeKind,
    before: ObjectLiteral | undefined,
    after: ObjectLiteral | undefined,
  ): Promise<void> {
    const mapper = MAPPERS.get(event.metadata.target as Function);
    if (!mapper) return;
    const context = (event.queryRunner.data ?? {}) as ChangeContext;
    const now = new Date();
    const traceContext = activeTraceparent();
    const drafts = mapper(kind, before, after, { actorId: context.actorId ?? null, now });
    if (drafts.length === 0) return;
    await enqueue(event.queryRunner, async () => {
      if (context.cause) context.resolvedCause ??= resolveCause(event.manager, context.cause);
      const cause = (await context.resolvedCause) ?? null;
      const values = drafts.map((d) => {
        // A cause in another project (or none that exists) is no cause: the header is ignored.
        const caused = cause !== null && cause.projectId === d.projectId;
        return {
          ...d,
          createdAt: now,
          traceContext,
          actorTokenId: context.tokenId ?? null,
          causeEventId: caused ? cause.eventId : null,
          causeWebhookId: caused ? cause.webhookId : null,
          // Capped: a client replaying webhook-id by hand must not overflow the column.
          causalDepth: caused ? Math.min(cause.depth + 1, 10_000) : 0,
        };
      });
      await event.manager.createQueryBuilder().insert().into(DomainEvent).values(values).callListeners(false).execute();
    });
  }
}
