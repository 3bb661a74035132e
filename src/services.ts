import { DataSource, In, Not } from 'typeorm';
import { NOTIFICATION_KIND } from './health/health.constants';
import type { WebhookCallKind } from './delivery/delivery.entity';
import { WebhookCallPubSub } from './webhook-calls/webhook-call.pubsub';
import { WebhookCallService } from './webhook-calls/webhook-call.service';
import { AccessService } from './auth/access.service';
import { AccessWatch } from './auth/access-watch';
import { IdentityService } from './auth/identity.service';
import { BlueprintService } from './cms/blueprint.service';
import { DocumentService } from './cms/document.service';
import { ProjectService } from './cms/project.service';
import { WebhookCall } from './webhook-calls/webhook-call.entity';
import { CHANNELS } from './db/names';
import { EventFeed } from './events/event-feed';
import { WebhookEventService } from './events/webhook-event.service';
import { WebhookStatsService } from './stats/webhook-stats.service';
import { WebhookService } from './webhooks/webhook.service';
import { HealthFeed } from './health/health-feed';
import { WebhookHealthService } from './health/health.service';
import { NotificationEndpointService } from './health/notification-endpoint.service';
import { WebhookSendService } from './delivery/send.service';
import { WebhookBodyService } from './delivery/body-preview.service';
import type { HttpSender } from './delivery/http-sender';
import type { OutcomeWriter } from './delivery/outcome-writer';
import type { Config } from './config/config';
import { type Logger, silentLogger } from './observability/logger';

/** The composition root: every service built once per process from the DataSource. */
export function createServices(dataSource: DataSource, delivery: { sender: HttpSender; webhookConfig: Config['webhook']; writer: OutcomeWriter }, log: Logger = silentLogger) {
  const access = new AccessService(dataSource);
  const eventFeed = new EventFeed(dataSource);
  // The live call log's own LISTEN connection goes to the DataSource's database; app.ts starts it.
  const webhookCallPubSub = new WebhookCallPubSub({
    connection: { connectionString: (dataSource.options as { url?: string }).url },
    // Calls to notification endpoints are not CMS events: not in this log, nor live.
    load: (ids) => dataSource.getRepository(WebhookCall).findBy({ id: In(ids), kind: Not(NOTIFICATION_KIND as WebhookCallKind) }),
  });
  const identity = new IdentityService(dataSource);
  // Access changes and the event stream's wake-ups (the outbox's NOTIFY) arrive on the same
  // LISTEN connection: one connection per process. After a reconnect the feed looks again.
  const accessWatch = new AccessWatch(identity);
  webhookCallPubSub.listen(CHANNELS.access, accessWatch);
  webhookCallPubSub.listen(CHANNELS.domainEvents, { notified: async () => eventFeed.wake(), restored: async () => eventFeed.wake() });
  // Health changes are announced by the database (the worker that made them may be elsewhere).
  const healthFeed = new HealthFeed(dataSource, log);
  webhookCallPubSub.listen(CHANNELS.webhookHealth, healthFeed);
  const webhooks = new WebhookService(dataSource, access);
  const webhookCalls = new WebhookCallService(dataSource, access, webhookCallPubSub, accessWatch);
  const notificationEndpoints = new NotificationEndpointService(dataSource, access);
  return {
    dataSource,
    access,
    identity,
    accessWatch,
    projects: new ProjectService(dataSource, access),
    blueprints: new BlueprintService(dataSource, access),
    documents: new DocumentService(dataSource, access),
    webhooks,
    webhookCallPubSub,
    webhookCalls,
    healthFeed,
    health: new WebhookHealthService(access, healthFeed, accessWatch),
    notificationEndpoints,
    stats: new WebhookStatsService(dataSource, access),
    eventFeed,
    webhookEvents: new WebhookEventService(dataSource, access, eventFeed, accessWatch, delivery.webhookConfig.maxCausalDepth),
    bodies: new WebhookBodyService(dataSource, webhooks),
    sends: new WebhookSendService(dataSource, webhooks, webhookCalls, delivery.sender, delivery.webhookConfig, delivery.writer, notificationEndpoints),
  };
}

export type Services = ReturnType<typeof createServices>;
