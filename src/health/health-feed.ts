import { type Logger, silentLogger } from '../observability/logger';
import type { DataSource } from 'typeorm';
import { parseNotification, CallStream, type ChannelHandler } from '../webhook-calls/webhook-call.pubsub';
import type { WebhookHealthEventType, WebhookHealthState } from './health.constants';

/**
 * The live feed of health changes (`webhookHealthChanged`). A change happens in whichever
 * worker settled the outcome that caused it, in any process or thread, so it is announced
 * through the database: the trigger of migrations/1764610000000 records it in
 * `webhook_health_event` and raises `NOTIFY cms_webhook_health, 'project:webhook:id'` at
 * commit. Every API process hears it on its one LISTEN connection (registered with
 * WebhookCallPubSub.listen), loads the rows its subscribers want, and hands them on.
 * Like the live log, it is a live view: the health state on the webhook is the record.
 */

export interface WebhookHealthChange {
  id: string;
  projectId: string;
  webhookId: string;
  webhookName: string;
  /** The notification type sent to endpoints; null for a change that notifies nobody (enabled again). */
  type: WebhookHealthEventType | null;
  previousState: WebhookHealthState;
  state: WebhookHealthState;
  reason: string | null;
  consecutiveFailures: number;
  failureRate: number | null;
  failingSince: Date | null;
  willDisableAt: Date | null;
  at: Date;
}

interface HealthEventRow {
  id: string;
  project_id: string;
  webhook_id: string;
  webhook_name: string;
  type: WebhookHealthEventType | null;
  previous_state: WebhookHealthState;
  state: WebhookHealthState;
  reason: string | null;
  consecutive_failures: number;
  failure_rate: number | null;
  failing_since: Date | null;
  will_disable_at: Date | null;
  created_at: Date;
}

function toChange(row: HealthEventRow): WebhookHealthChange {
  return {
    id: row.id,
    projectId: row.project_id,
    webhookId: row.webhook_id,
    webhookName: row.webhook_name,
    type: row.type,
    previousState: row.previous_state,
    state: row.state,
    reason: row.reason,
    consecutiveFailures: row.consecutive_failures,
    failureRate: row.failure_rate,
    failingSince: row.failing_since,
    willDisableAt: row.will_disable_at,
    at: row.created_at,
  };
}

export class HealthFeed implements ChannelHandler {
  private readonly byProject = new Map<string, Set<CallStream<WebhookHealthChange>>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly log: Logger = silentLogger,
  ) {}

  subscribe(projectId: string): CallStream<WebhookHealthChange> {
    const stream = new CallStream<WebhookHealthChange>(projectId, null, (s) => {
      const streams = this.byProject.get(s.projectId);
      streams?.delete(s);
      if (streams?.size === 0) this.byProject.delete(s.projectId);
    });
    let streams = this.byProject.get(projectId);
    if (!streams) this.byProject.set(projectId, (streams = new Set()));
    streams.add(stream);
    return stream;
  }

  /** Open streams (of one project, or all): tests wait on it, and it is a gauge worth watching. */
  subscriberCount(projectId?: string): number {
    if (projectId !== undefined) return this.byProject.get(projectId)?.size ?? 0;
    let count = 0;
    for (const streams of this.byProject.values()) count += streams.size;
    return count;
  }

  async notified(payloads: string[]): Promise<void> {
    const ids = payloads.flatMap(parseNotification).filter((a) => this.byProject.has(a.projectId)).map((a) => a.id);
    if (ids.length === 0) return;
    let rows: HealthEventRow[];
    try {
      rows = await this.dataSource.query(`SELECT * FROM webhook_health_event WHERE id = ANY($1::uuid[]) ORDER BY created_at, id`, [ids]);
    } catch (error) {
      this.log.warn({ err: error, changes: ids.length }, 'health feed: could not load the announced health changes');
      return;
    }
    for (const row of rows) for (const stream of this.byProject.get(row.project_id) ?? []) stream.push(toChange(row));
  }

  /** Changes announced while the connection was down are lost; the webhooks' state is the record. */
  async restored(): Promise<void> {}
}
