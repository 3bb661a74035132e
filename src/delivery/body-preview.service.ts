import crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Actor } from '../auth/actor';
import { badInput, notFound } from '../common/app-error';
import { Project } from '../cms/project.entity';
import { DomainEvent } from '../events/domain-event.entity';
import type { WebhookTrigger } from '../webhooks/triggers';
import type { Webhook } from '../webhooks/webhook.entity';
import { validateBodySpec, type WebhookService } from '../webhooks/webhook.service';
import { buildBody, loadTemplateFacts, SAMPLE_CONTEXT, type TemplateFacts } from './body';
import { BodyFormat } from './body-template';
import { type PayloadEvent, sampleEvent } from './payload';

export interface BodyPreview {
  body: string;
  contentType: string;
  eventId: string;
  trigger: WebhookTrigger;
  sample: boolean;
}

export interface BodyDraft {
  bodyTemplate?: string | null;
  bodyFormat?: BodyFormat | null;
  bodyContentType?: string | null;
}

/**
 * What a webhook would send for an event: a real one of its project, or a sample of its first
 * trigger, rendered with its saved body settings or with a draft (a form not saved yet). The
 * same code path as fan-out and test sends, so the preview is the body that goes out.
 */
export class WebhookBodyService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly webhooks: WebhookService,
  ) {}

  async preview(actor: Actor, webhookId: string, eventId: string | null, draft: BodyDraft | null): Promise<BodyPreview> {
    const webhook = await this.webhooks.get(actor, webhookId);
    const spec = draft
      ? validateBodySpec(
          { bodyTemplate: draft.bodyTemplate ?? null, bodyFormat: draft.bodyFormat ?? BodyFormat.JSON, bodyContentType: draft.bodyContentType ?? null },
          [],
          'draft',
        )
      : webhook;
    const { event, facts, sample } = eventId ? await this.realEvent(webhook, eventId) : await this.sample(webhook, actor);
    const built = buildBody(spec, event, webhook.id, facts);
    if (built.error) throw badInput(draft ? 'draft.bodyTemplate' : 'bodyTemplate', built.error.replace(/^body template: /, ''));
    return { body: built.body, contentType: built.contentType, eventId: event.id, trigger: event.trigger, sample };
  }

  /** The facts a test send renders with: the real project name, sample names for the rest. */
  async sampleFacts(projectId: string): Promise<TemplateFacts> {
    const project = await this.dataSource.getRepository(Project).findOneBy({ id: projectId });
    return { context: SAMPLE_CONTEXT, projectName: project?.name ?? null, blueprint: null };
  }

  private async sample(webhook: Webhook, actor: Actor): Promise<{ event: PayloadEvent; facts: TemplateFacts; sample: boolean }> {
    const event = sampleEvent(webhook.triggers[0], webhook.projectId, { eventId: crypto.randomUUID(), triggeredUserId: actor.user.id });
    return { event, facts: await this.sampleFacts(webhook.projectId), sample: true };
  }

  private async realEvent(webhook: Webhook, eventId: string): Promise<{ event: PayloadEvent; facts: TemplateFacts; sample: boolean }> {
    // Only events of the webhook's own project; anything else answers as a missing id does.
    const row = await this.dataSource.getRepository(DomainEvent).findOneBy({ id: eventId, projectId: webhook.projectId });
    if (!row) throw notFound('Event');
    const facts = (await loadTemplateFacts(this.dataSource.manager, [row.id])).get(row.id);
    if (!facts) throw notFound('Event');
    return { event: { id: row.id, projectId: row.projectId, trigger: row.trigger, metadata: row.metadata }, facts, sample: false };
  }
}
