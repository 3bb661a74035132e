import { DataSource, SelectQueryBuilder } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { AccessWatch } from '../auth/access-watch';
import type { Actor } from '../auth/actor';
import { badInput, notFound, requireUuid } from '../common/app-error';
import { Cursor, decodeCursor, Page, pageSize, toPage } from '../common/pagination';
import { ProjectRole } from '../cms/roles';
import { WebhookCallKind } from '../delivery/delivery.entity';
import { WebhookCall } from './webhook-call.entity';
import { WebhookTrigger } from '../webhooks/triggers';
import { WebhookCallPubSub } from './webhook-call.pubsub';
import { countCalls } from './webhook-call.count';
import { NOTIFICATION_KIND } from '../health/health.constants';

export interface WebhookCallFilterData {
  webhookId?: string | null;
  eventId?: string | null;
  success?: boolean | null;
  trigger?: WebhookTrigger | null;
  kind?: WebhookCallKind | null;
  /** Inclusive. */
  since?: Date | null;
  /** Exclusive: `since`/`until` of consecutive windows never count a call twice. */
  until?: Date | null;
}

const ACTION = 'read the webhook log';

/**
 * The read side of the log. The log shows request bodies and headers sent to receivers, so it
 * needs ADMIN, like webhooks themselves; a caller outside the project gets NOT_FOUND.
 */
export class WebhookCallService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly pubSub: WebhookCallPubSub,
    private readonly watch: AccessWatch,
  ) {}

  async get(actor: Actor | null, id: string): Promise<WebhookCall> {
    const call = await this.dataSource.getRepository(WebhookCall).findOneBy({ id: requireUuid('id', id) });
    // Calls to notification endpoints have their own log (notificationCalls).
    if (!call || (call.kind as string) === NOTIFICATION_KIND) throw notFound('Webhook call');
    await this.access.requireRole(actor, call.projectId, ProjectRole.ADMIN, ACTION, 'Webhook call');
    return call;
  }

  /**
   * Newest first. Keyset pagination on (created_at, id): each page is an index seek on
   * (project_id | webhook_id, created_at, id) below the cursor, so page 1000 costs what page 1
   * costs. No OFFSET anywhere.
   */
  async list(
    actor: Actor | null,
    projectId: string,
    filter: WebhookCallFilterData | null | undefined,
    first?: number | null,
    after?: string | null,
  ): Promise<Page<WebhookCall>> {
    const project = requireUuid('projectId', projectId);
    const checked = checkFilter(filter);
    const size = pageSize(first);
    const cursor = decodeCursor('after', after);
    await this.access.requireRole(actor, project, ProjectRole.ADMIN, ACTION);
    return toPage(await this.pageQuery(project, checked, size, cursor).getMany(), size);
  }

  /** How many calls match: a separate statement, run only when a client asks for `totalCount` (see call-count.ts). */
  async count(actor: Actor | null, projectId: string, filter: WebhookCallFilterData | null | undefined): Promise<number> {
    const project = requireUuid('projectId', projectId);
    const checked = checkFilter(filter);
    await this.access.requireRole(actor, project, ProjectRole.ADMIN, ACTION);
    return countCalls(this.dataSource, project, checked);
  }

  /**
   * Calls of the project (optionally of one webhook) committed from now on. The role is
   * checked before the stream exists, and again whenever the database announces that the
   * caller's membership, token or user changed (AccessWatch), so a removed or demoted
   * member's stream ends with NOT_FOUND or FORBIDDEN within moments, not at the next call.
   */
  async live(actor: Actor | null, projectId: string, webhookId?: string | null): Promise<AsyncIterableIterator<WebhookCall>> {
    const project = requireUuid('projectId', projectId);
    const webhook = webhookId == null ? null : requireUuid('webhookId', webhookId);
    const caller = this.access.requireActor(actor);
    return this.watch.openStream(
      caller,
      project,
      async () => {
        await this.access.requireRole(caller, project, ProjectRole.ADMIN, ACTION);
      },
      () => this.pubSub.subscribe(project, webhook),
    );
  }

  /** The page query, exposed so a test can EXPLAIN it. */
  pageQuery(projectId: string, filter: WebhookCallFilterData, size: number, cursor?: Cursor): SelectQueryBuilder<WebhookCall> {
    const query = this.filtered(projectId, filter).orderBy('c.created_at', 'DESC').addOrderBy('c.id', 'DESC').limit(size + 1);
    if (cursor) query.andWhere('(c.created_at, c.id) < (:cursorAt, :cursorId)', { cursorAt: cursor.createdAt, cursorId: cursor.id });
    return query;
  }

  private filtered(projectId: string, filter: WebhookCallFilterData): SelectQueryBuilder<WebhookCall> {
    const query = this.dataSource
      .getRepository(WebhookCall)
      .createQueryBuilder('c')
      .where('c.project_id = :projectId', { projectId })
      .andWhere('c.kind <> :notification', { notification: NOTIFICATION_KIND });
    if (filter.webhookId) query.andWhere('c.webhook_id = :webhookId', { webhookId: filter.webhookId });
    if (filter.eventId) query.andWhere('c.event_id = :eventId', { eventId: filter.eventId });
    if (filter.success != null) query.andWhere('c.success = :success', { success: filter.success });
    if (filter.trigger) query.andWhere('c.trigger = :trigger', { trigger: filter.trigger });
    if (filter.kind) query.andWhere('c.kind = :kind', { kind: filter.kind });
    if (filter.since) query.andWhere('c.created_at >= :since', { since: filter.since });
    if (filter.until) query.andWhere('c.created_at < :until', { until: filter.until });
    return query;
  }
}

/** Ids must be UUIDs (never a database error) and the time window must not be reversed. */
export function checkFilter(filter: WebhookCallFilterData | null | undefined): WebhookCallFilterData {
  const f = filter ?? {};
  const checked: WebhookCallFilterData = { ...f };
  if (f.webhookId != null) checked.webhookId = requireUuid('filter.webhookId', f.webhookId);
  if (f.eventId != null) checked.eventId = requireUuid('filter.eventId', f.eventId);
  for (const key of ['since', 'until'] as const) {
    const value = f[key];
    if (value != null && !(value instanceof Date && !Number.isNaN(value.getTime()))) throw badInput(`filter.${key}`, 'must be an ISO-8601 date-time');
  }
  if (f.since && f.until && f.until.getTime() < f.since.getTime()) throw badInput('filter.until', 'must not be before filter.since');
  return checked;
}
