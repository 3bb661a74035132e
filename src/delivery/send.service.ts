import crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import type { Actor } from '../auth/actor';
import { badInput } from '../common/app-error';
import type { Config } from '../config/config';
import type { WebhookCallService } from '../webhook-calls/webhook-call.service';
import { WebhookTrigger } from '../webhooks/triggers';
import { Webhook } from '../webhooks/webhook.entity';
import type { WebhookService } from '../webhooks/webhook.service';
import { type AttemptTarget, sendNow } from './attempt';
import { WebhookCallKind } from './delivery.entity';
import type { HttpSender } from './http-sender';
import type { OutcomeWriter } from './outcome-writer';
import { buildBody, CONTRACT_CONTENT_TYPE, SAMPLE_CONTEXT } from './body';
import { sampleEvent } from './payload';
import { Project } from '../cms/project.entity';
import { requeueFailed } from './queue';
import { retryWaitingNow } from './queue-fifo';
import type { WebhookCall } from '../webhook-calls/webhook-call.entity';
import { NOTIFICATION_KIND } from '../health/health.constants';
import type { NotificationEndpointService } from '../health/notification-endpoint.service';
import { TEST_NOTIFICATION_TYPE, testNotificationBody } from '../health/notification-sample';

/** How far back `recoverWebhook` may reach, as Svix's recover does. */
export const RECOVER_WINDOW_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * Sends people ask for: a test send, a replay of a logged call, and recovery of failed
 * deliveries. Test sends and replays go out at once through the same attempt path as the
 * worker (signed, SSRF-guarded, logged, published live) and return their log row.
 */
export class WebhookSendService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly webhooks: WebhookService,
    private readonly calls: WebhookCallService,
    private readonly sender: HttpSender,
    private readonly config: Config['webhook'],
    private readonly writer: OutcomeWriter,
    private readonly endpoints: NotificationEndpointService,
  ) {}

  /** A sample event of `trigger` (default: the webhook's first trigger), sent even if the webhook is disabled. */
  async test(actor: Actor, webhookId: string, trigger: WebhookTrigger | null | undefined): Promise<WebhookCall> {
    const webhook = await this.webhooks.get(actor, webhookId);
    const chosen = trigger ?? webhook.triggers[0];
    const eventId = crypto.randomUUID();
    const event = sampleEvent(chosen, webhook.projectId, { eventId, triggeredUserId: actor.user.id });
    // The webhook's template applies to test sends too, with sample names and the real project's.
    const project = webhook.bodyTemplate === null ? null : await this.dataSource.getRepository(Project).findOneBy({ id: webhook.projectId });
    const built = buildBody(webhook, event, webhook.id, { context: SAMPLE_CONTEXT, projectName: project?.name ?? null, blueprint: null });
    return this.sendNow({ webhook, kind: WebhookCallKind.TEST, eventId, trigger: chosen, body: built.body, contentType: built.contentType, bodyError: built.error });
  }

  /**
   * An example notification (README "Failure notifications") to a notification endpoint, sent
   * even if the endpoint is disabled. Logged with the endpoint's other calls (kind
   * NOTIFICATION, so `notificationCalls` lists it and `webhookCalls` does not); like all of an
   * endpoint's calls, its outcome changes no health state.
   */
  async testNotification(actor: Actor, endpointId: string): Promise<WebhookCall> {
    const endpoint = await this.endpoints.get(actor, endpointId);
    const eventId = crypto.randomUUID();
    const body = testNotificationBody(endpoint.projectId, eventId, new Date());
    const trigger = TEST_NOTIFICATION_TYPE as string as WebhookTrigger;
    return this.sendNow({ webhook: endpoint, kind: NOTIFICATION_KIND as WebhookCallKind, eventId, trigger, body });
  }

  /**
   * The exact body of a logged call, to the webhook's current URL with its current headers,
   * under the same event id (`webhook-id`) so receivers deduplicate it, freshly signed.
   */
  async replay(actor: Actor, callId: string): Promise<WebhookCall> {
    const call = await this.calls.get(actor, callId);
    const webhook = await this.dataSource.getRepository(Webhook).findOneByOrFail({ id: call.webhookId });
    // A call whose template could not be rendered sent nothing: there is nothing to send again.
    if (call.requestHeaders.length === 0 && call.responseStatusCode === null && call.error?.startsWith('body template: ')) {
      throw badInput('id', 'this call sent nothing (its body template could not be rendered); fix the template and use testWebhook or recoverWebhook');
    }
    // The body as logged, with the content type it was logged with (a template may have been changed since).
    const contentType = call.requestHeaders.find((h) => h.name.toLowerCase() === 'content-type')?.value ?? CONTRACT_CONTENT_TYPE;
    return this.sendNow({ webhook, kind: WebhookCallKind.REPLAY, eventId: call.eventId, trigger: call.trigger, body: call.requestBody, contentType });
  }

  /**
   * Puts every delivery of the webhook that failed for good since `since` back in the queue
   * for one more attempt. Returns how many; the NOTIFY wakes workers in every process at commit.
   *
   * FIFO webhooks: the re-queued deliveries take their old places in the line, so they go
   * before anything still waiting (the receiver had later events meanwhile); and a failing
   * head waiting for its next retry is tried now, so the line moves as soon as the receiver
   * works. Test sends and replays are never part of a line: they go out at once, beside it.
   */
  async recover(actor: Actor, webhookId: string, since: Date): Promise<number> {
    const webhook = await this.webhooks.get(actor, webhookId);
    if (Number.isNaN(since.getTime())) throw badInput('since', 'must be a date-time');
    if (since.getTime() < Date.now() - RECOVER_WINDOW_MS) throw badInput('since', 'must be within the last 14 days');
    return this.dataSource.transaction(async (m) => (await requeueFailed(m, webhook.id, since)) + (webhook.fifo ? await retryWaitingNow(m, webhook.id) : 0));
  }

  private sendNow(target: AttemptTarget): Promise<WebhookCall> {
    return sendNow(this.writer, this.sender, { retryScheduleMs: this.config.retryScheduleMs }, target);
  }
}
