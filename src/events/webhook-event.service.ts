import type { DataSource } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { AccessWatch } from '../auth/access-watch';
import type { Actor } from '../auth/actor';
import { badInput, notFound, requireUuid } from '../common/app-error';
import { ProjectRole } from '../cms/roles';
import { DEFAULT_MAX_CAUSAL_DEPTH, exceedsCausalDepth, MatchableWebhook, webhookMatchesEvent } from '../delivery/fanout.service';
import { type BodySpec, buildBody, CONTRACT_CONTENT_TYPE, loadTemplateFacts } from '../delivery/body';
import { buildPayloadBody } from '../delivery/payload';
import { ALL_TRIGGERS, WebhookTrigger } from '../webhooks/triggers';
import { Webhook } from '../webhooks/webhook.entity';
import { EventFeed, EventPosition, FeedEvent } from './event-feed';

/** An event as a webhook would get it: the exact body, ready to sign and send. */
export interface WebhookEventData {
  id: string;
  projectId: string;
  webhookId: string | null;
  trigger: WebhookTrigger;
  createdAt: Date;
  body: string;
  causeEventId: string | null;
  causalDepth: number;
  suppressedReason: string | null;
  contentType: string;
}

export interface WebhookEventsArgs {
  projectId: string;
  webhookId?: string | null;
  triggers?: WebhookTrigger[] | null;
  after?: string | null;
}

/**
 * How far back `after` may reach: a subscriber that missed more events of the project than
 * this (a laptop asleep over a busy weekend) starts again from now, as it is told, rather than
 * have its local server flooded. Events are kept at most WEBHOOK_LOG_RETENTION anyway.
 */
export const MAX_REPLAY_EVENTS = 10_000;

/** `webhook.webhook_id` of a body built for no webhook in particular (the payload schema wants a UUID). */
export const NO_WEBHOOK_ID = '00000000-0000-0000-0000-000000000000';

const ACTION = 'stream the events webhooks get';

/**
 * The live event stream behind `cms-webhooks listen`: what a webhook would be sent, without a
 * public URL. It shows every event of a project (bodies included), so it needs ADMIN, as the
 * log and webhooks do; a caller outside the project gets NOT_FOUND.
 */
export class WebhookEventService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
    private readonly feed: EventFeed,
    private readonly watch: AccessWatch,
    private readonly maxCausalDepth = DEFAULT_MAX_CAUSAL_DEPTH,
  ) {}

  async live(actor: Actor | null, args: WebhookEventsArgs): Promise<AsyncIterableIterator<WebhookEventData>> {
    const projectId = requireUuid('projectId', args.projectId);
    const webhookId = args.webhookId == null ? null : requireUuid('webhookId', args.webhookId);
    const afterId = args.after == null ? null : requireUuid('after', args.after);
    if (args.triggers != null && args.triggers.length === 0) throw badInput('triggers', 'must name at least one trigger (or be left out for all)');
    const caller = this.access.requireActor(actor);
    const check = async () => void (await this.access.requireRole(caller, projectId, ProjectRole.ADMIN, ACTION));
    await check();

    const filter = await this.filterFor(projectId, webhookId, args.triggers ?? null);
    const after = afterId === null ? undefined : await this.resumePoint(projectId, afterId);
    // Watched like the live log: a revoked token or a removed or demoted member ends it at once.
    // With a webhook, what it would get: an event too deep in a delivery chain is left out as
    // fan-out leaves it out. Without one, every event, such an event marked as suppressed.
    const max = this.maxCausalDepth;
    const matches = (event: FeedEvent) =>
      webhookMatchesEvent(filter, { ...event, loopOrigins: null }) && (webhookId === null || !exceedsCausalDepth(event.causalDepth, max));
    const events = await this.watch.openStream(caller, projectId, check, () => this.feed.open(projectId, matches, after));
    const spec = filter.body;
    if (!spec || spec.bodyTemplate === null) return mapStream(events, (event) => toWebhookEvent(event, webhookId, max));
    // Rendered as fan-out renders it, names and titles read per event: a development tool's pace.
    return mapStream(events, async (event) => {
      const facts = (await loadTemplateFacts(this.dataSource.manager, [event.id])).get(event.id) ?? null;
      const built = buildBody(spec, event, webhookId!, facts);
      // A body that cannot be rendered sends nothing from the CMS either: the stream says why, as the log would.
      return { ...toWebhookEvent(event, webhookId, max), body: built.error ?? built.body, contentType: built.error ? 'text/plain; charset=utf-8' : built.contentType };
    });
  }

  /**
   * With a webhook: its triggers (narrowed by `triggers` when both are given) and its blueprint
   * filter, read once at subscription, matched by the same rule as fan-out. Whether it is
   * enabled does not matter: listening to a paused webhook's events is a use of its own.
   */
  private async filterFor(projectId: string, webhookId: string | null, triggers: WebhookTrigger[] | null): Promise<MatchableWebhook & { body?: BodySpec }> {
    if (webhookId === null) return { triggers: triggers ?? ALL_TRIGGERS, blueprintIds: null };
    const webhook = await this.dataSource.getRepository(Webhook).findOneBy({ id: webhookId, projectId });
    if (!webhook) throw notFound('Webhook');
    return {
      triggers: triggers ? webhook.triggers.filter((t) => triggers.includes(t)) : webhook.triggers,
      blueprintIds: webhook.blueprintIds,
      documentStatuses: webhook.documentStatuses,
      changedFields: webhook.changedFields,
      actorFilter: webhook.actorFilter,
      // Its body settings as of the subscription, as its deliveries are rendered at fan-out.
      body: { bodyTemplate: webhook.bodyTemplate, bodyFormat: webhook.bodyFormat, bodyContentType: webhook.bodyContentType },
    };
  }

  private async resumePoint(projectId: string, eventId: string): Promise<EventPosition> {
    const position = await this.feed.positionOf(projectId, eventId);
    // Never an event of another project, or one deleted past retention: the same answer for both.
    if (!position) throw notFound('Event');
    if ((await this.feed.countAfter(projectId, position, MAX_REPLAY_EVENTS)) > MAX_REPLAY_EVENTS) {
      throw badInput('after', `must be one of the last ${MAX_REPLAY_EVENTS} events of the project; subscribe without it to start from now`);
    }
    return position;
  }
}

export function toWebhookEvent(event: FeedEvent, webhookId: string | null, maxCausalDepth = DEFAULT_MAX_CAUSAL_DEPTH): WebhookEventData {
  return {
    causeEventId: event.causeEventId,
    causalDepth: event.causalDepth,
    suppressedReason: exceedsCausalDepth(event.causalDepth, maxCausalDepth)
      ? `${event.causalDepth} deliveries deep in a chain of changes made while handling deliveries (WEBHOOK_MAX_CAUSAL_DEPTH is ${maxCausalDepth}): sent to no webhook`
      : null,
    id: event.id,
    projectId: event.projectId,
    webhookId,
    trigger: event.trigger,
    createdAt: event.createdAt,
    body: buildPayloadBody(event, webhookId ?? NO_WEBHOOK_ID),
    contentType: CONTRACT_CONTENT_TYPE,
  };
}

/** `inner` with `map` applied to each value; `return()` reaches `inner` at once. */
function mapStream<T, U>(inner: AsyncIterableIterator<T>, map: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  return {
    async next() {
      const result = await inner.next();
      return result.done ? { value: undefined, done: true } : { value: await map(result.value), done: false };
    },
    async return() {
      await inner.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await inner.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
