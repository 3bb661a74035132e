import { EntitySubscriberInterface, EventSubscriber, InsertEvent, ObjectLiteral, QueryRunner, RemoveEvent, UpdateEvent } from 'typeorm';
import { Blueprint } from '../cms/blueprint.entity';
import { Document } from '../cms/document.entity';
import { ProjectMember } from '../cms/project-member.entity';
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
    await enqueue(event.queryRunner, () =>
      event.manager
        .createQueryBuilder()
        .insert()
        .into(DomainEvent)
        .values(drafts.map((d) => ({ ...d, createdAt: now, traceContext })))
        .callListeners(false)
        .execute(),
    );
  }
}
