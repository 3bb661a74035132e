import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { User } from '../../src/auth/user.entity';
import { Blueprint } from '../../src/cms/blueprint.entity';
import { Project } from '../../src/cms/project.entity';
import { WebhookCallKind } from '../../src/delivery/delivery.entity';
import { generateSigningSecret } from '../../src/delivery/signing';
import type { ChangeContext } from '../../src/events/domain-event.subscriber';
import { WebhookCall } from '../../src/webhook-calls/webhook-call.entity';
import { ALL_TRIGGERS, HttpMethod, WebhookTrigger } from '../../src/webhooks/triggers';
import { StoredHeader, Webhook } from '../../src/webhooks/webhook.entity';

/**
 * Rows written straight into a test database, below the API: for tests of the worker, the
 * queue and the log. Projects and webhooks made through GraphQL come from ./api.
 */

/** Runs `work` in a transaction whose events name `actorId` as triggered_user_id. */
export async function asUser<T>(dataSource: DataSource, actorId: string | null, work: (m: EntityManager) => Promise<T>): Promise<T> {
  return dataSource.transaction(async (manager) => {
    (manager.queryRunner!.data as ChangeContext) = { actorId };
    return work(manager);
  });
}

export interface Fixture {
  project: Project;
  user: User;
  blueprint: Blueprint;
}

export async function createFixture(dataSource: DataSource): Promise<Fixture> {
  const tag = randomBytes(4).toString('hex');
  const user = await dataSource.getRepository(User).save({ email: `u-${tag}@example.com`, name: 'Tester' });
  const project = await dataSource.getRepository(Project).save({ name: `project ${tag}` });
  const blueprint = await dataSource.transaction((m) =>
    m.save(Blueprint, m.create(Blueprint, { projectId: project.id, name: 'Article', apiName: `article_${tag}`, fields: [] })),
  );
  return { project, user, blueprint };
}

export async function createWebhook(
  dataSource: DataSource,
  values: {
    projectId: string;
    url: string;
    triggers?: WebhookTrigger[];
    blueprintIds?: string[] | null;
    enabled?: boolean;
    headers?: StoredHeader[];
    method?: HttpMethod;
  },
): Promise<Webhook> {
  const repository = dataSource.getRepository(Webhook);
  return repository.save(
    repository.create({
      projectId: values.projectId,
      name: 'test hook',
      url: values.url,
      method: values.method ?? HttpMethod.POST,
      triggers: values.triggers ?? [...ALL_TRIGGERS],
      blueprintIds: values.blueprintIds ?? null,
      enabled: values.enabled ?? true,
      headers: values.headers ?? [],
      signingSecret: generateSigningSecret(),
    }),
  );
}

export { captureLog } from './log';

/** A complete log row as the delivery worker would write it; `overrides` pick what a test varies. */
export function callRow(projectId: string, webhookId: string, overrides: Partial<WebhookCall> = {}): Partial<WebhookCall> {
  return {
    id: randomUUID(),
    deliveryId: null,
    projectId,
    webhookId,
    eventId: randomUUID(),
    trigger: WebhookTrigger.DOCUMENT_CREATE,
    kind: WebhookCallKind.EVENT,
    attempt: 1,
    success: true,
    error: null,
    durationMs: 12,
    nextRetryAt: null,
    requestMethod: 'POST',
    requestUrl: 'https://receiver.example.test/hook',
    requestHeaders: [
      { name: 'content-type', value: 'application/json' },
      { name: 'x-api-key', value: '••••3gat' },
    ],
    requestBody: '{"event_id":"x"}',
    responseStatusCode: 200,
    responseHeaders: [{ name: 'content-type', value: 'text/plain' }],
    responseBody: 'ok',
    ...overrides,
  };
}

/** Inserts through TypeORM (the NOTIFY trigger fires on commit, as for the worker's rows). */
export async function insertCalls(target: DataSource | EntityManager, rows: Array<Partial<WebhookCall>>): Promise<void> {
  const manager = target instanceof DataSource ? target.manager : target;
  for (let i = 0; i < rows.length; i += 100) await manager.insert(WebhookCall, rows.slice(i, i + 100));
}
