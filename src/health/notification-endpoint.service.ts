import { DataSource } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound, requireUuid } from '../common/app-error';
import { decodeCursor, Page, pageSize, toPage } from '../common/pagination';
import { ProjectRole } from '../cms/roles';
import { generateSigningSecret } from '../delivery/signing';
import { HttpMethod } from '../webhooks/triggers';
import { Webhook } from '../webhooks/webhook.entity';
import { ROTATION_GRACE_MS } from '../webhooks/webhook.service';
import { HeaderInput, validateDescription, validateHeaders, validateName, validateUrl } from '../webhooks/webhook.validation';
import { WebhookCall } from '../webhook-calls/webhook-call.entity';
import { ALL_HEALTH_EVENT_TYPES, NOTIFICATION_KIND, WebhookHealthEventType, WebhookPurpose } from './health.constants';

/**
 * Notification endpoints: where a project's operators hear that its webhooks are failing, about
 * to be disabled, disabled or recovered (like Svix's operational webhooks).
 *
 * An endpoint is a `webhook` row with purpose NOTIFICATIONS, so the queue, the lease, retries,
 * Standard Webhooks signing with its own whsec_ secret, secret headers, the SSRF guard, the log
 * and auto-disable all work for it unchanged. It never gets CMS events (fan-out skips it), is
 * not listed among `webhooks`, and its own failures change no health state and notify no one.
 */

export interface NotificationEndpointInputData {
  name?: string | null;
  description?: string | null;
  url?: string | null;
  types?: WebhookHealthEventType[] | null;
  headers?: HeaderInput[] | null;
  enabled?: boolean | null;
}

const ACTION = 'manage notification endpoints';

export function validateTypes(types: WebhookHealthEventType[] | null | undefined): WebhookHealthEventType[] {
  if (types == null) return [...ALL_HEALTH_EVENT_TYPES];
  if (types.length === 0) throw badInput('input.types', 'must list at least one health event type');
  const seen = new Set<string>();
  types.forEach((t, i) => {
    if (seen.has(t)) throw badInput(`input.types[${i}]`, 'is listed twice');
    seen.add(t);
  });
  return types;
}

export class NotificationEndpointService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  async get(actor: Actor | null, id: string, forUpdate = false, manager = this.dataSource.manager): Promise<Webhook> {
    const endpoint = await manager.findOne(Webhook, {
      where: { id: requireUuid('id', id), purpose: WebhookPurpose.NOTIFICATIONS },
      ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}),
    });
    if (!endpoint) throw notFound('Notification endpoint');
    await this.access.requireRole(actor, endpoint.projectId, ProjectRole.ADMIN, ACTION, 'Notification endpoint', manager);
    return endpoint;
  }

  async list(actor: Actor | null, projectId: string): Promise<Webhook[]> {
    await this.access.requireRole(actor, requireUuid('projectId', projectId), ProjectRole.ADMIN, ACTION);
    return this.dataSource.getRepository(Webhook).find({ where: { projectId, purpose: WebhookPurpose.NOTIFICATIONS }, order: { createdAt: 'ASC' } });
  }

  async create(actor: Actor | null, projectId: string, input: NotificationEndpointInputData & { url: string }): Promise<Webhook> {
    await this.access.requireRole(actor, requireUuid('projectId', projectId), ProjectRole.ADMIN, ACTION);
    const repository = this.dataSource.getRepository(Webhook);
    const endpoint = repository.create({
      projectId,
      purpose: WebhookPurpose.NOTIFICATIONS,
      name: validateName(input.name ?? 'Notifications'),
      description: validateDescription(input.description),
      method: HttpMethod.POST,
      url: validateUrl(input.url),
      triggers: [],
      notificationTypes: validateTypes(input.types),
      headers: validateHeaders(input.headers ?? [], null),
      blueprintIds: null,
      enabled: input.enabled ?? true,
      disabledReason: null,
      signingSecret: generateSigningSecret(),
    });
    return repository.save(endpoint);
  }

  async update(actor: Actor | null, id: string, input: NotificationEndpointInputData): Promise<Webhook> {
    return this.dataSource.transaction(async (m) => {
      const endpoint = await this.get(actor, id, true, m);
      if (input.name != null) endpoint.name = validateName(input.name);
      if (input.description !== undefined) endpoint.description = validateDescription(input.description);
      if (input.url != null) endpoint.url = validateUrl(input.url);
      if (input.types != null) endpoint.notificationTypes = validateTypes(input.types);
      if (input.headers != null) endpoint.headers = validateHeaders(input.headers, endpoint.headers);
      if (input.enabled != null) {
        if (input.enabled && !endpoint.enabled) await m.query(`SELECT pg_notify('cms_delivery', '')`);
        endpoint.enabled = input.enabled;
        if (input.enabled) endpoint.disabledReason = null;
        else endpoint.disabledReason ??= 'Disabled by a user';
      }
      return m.save(endpoint);
    });
  }

  /** As for webhooks: the old secret keeps signing (alongside the new one) for a day, so receivers can roll over. */
  async rotateSecret(actor: Actor | null, id: string): Promise<Webhook> {
    return this.dataSource.transaction(async (m) => {
      const endpoint = await this.get(actor, id, true, m);
      endpoint.previousSigningSecret = endpoint.signingSecret;
      endpoint.previousSecretExpiresAt = new Date(Date.now() + ROTATION_GRACE_MS);
      endpoint.signingSecret = generateSigningSecret();
      return m.save(endpoint);
    });
  }

  async delete(actor: Actor | null, id: string): Promise<boolean> {
    const endpoint = await this.get(actor, id);
    await this.dataSource.getRepository(Webhook).delete({ id: endpoint.id });
    return true;
  }

  /**
   * The log of the project's notification endpoints (or one), newest first, keyset-paged like
   * `webhookCalls`: the same rows, kept apart because they are not CMS events.
   */
  async calls(actor: Actor | null, projectId: string, endpointId: string | null | undefined, first?: number | null, after?: string | null): Promise<Page<WebhookCall>> {
    const project = requireUuid('projectId', projectId);
    const endpoint = endpointId == null ? null : requireUuid('endpointId', endpointId);
    const size = pageSize(first);
    const cursor = decodeCursor('after', after);
    await this.access.requireRole(actor, project, ProjectRole.ADMIN, ACTION);
    const query = this.dataSource
      .getRepository(WebhookCall)
      .createQueryBuilder('c')
      .where('c.project_id = :project', { project })
      .andWhere('c.kind = :kind', { kind: NOTIFICATION_KIND });
    if (endpoint) query.andWhere('c.webhook_id = :endpoint', { endpoint });
    if (cursor) query.andWhere('(c.created_at, c.id) < (:cursorAt, :cursorId)', { cursorAt: cursor.createdAt, cursorId: cursor.id });
    return toPage(await query.orderBy('c.created_at', 'DESC').addOrderBy('c.id', 'DESC').limit(size + 1).getMany(), size);
  }
}
