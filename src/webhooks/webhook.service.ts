import { DataSource, EntityManager, In } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound } from '../common/app-error';
import { Blueprint } from '../cms/blueprint.entity';
import { ProjectRole } from '../cms/roles';
import { generateSigningSecret } from '../delivery/signing';
import { WebhookHealthState, WebhookPurpose } from '../health/health.constants';
import { HttpMethod, WebhookTrigger } from './triggers';
import { Webhook } from './webhook.entity';
import {
  HeaderInput,
  validateBlueprintIdShape,
  validateDescription,
  validateHeaders,
  validateName,
  validateTriggers,
  validateUrl,
} from './webhook.validation';

export interface WebhookInputData {
  name?: string | null;
  description?: string | null;
  method?: HttpMethod | null;
  url?: string | null;
  triggers?: WebhookTrigger[] | null;
  headers?: HeaderInput[] | null;
  blueprintIds?: string[] | null;
  enabled?: boolean | null;
}

/** How long the previous signing secret keeps signing after a rotation. */
export const ROTATION_GRACE_MS = 24 * 60 * 60 * 1000;

export class WebhookService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  /** Every webhook operation, reads included, needs ADMIN: webhooks carry secrets. */
  async get(actor: Actor | null, id: string, manager: EntityManager = this.dataSource.manager, forUpdate = false): Promise<Webhook> {
    // Writers lock the row before reading it, so concurrent updates and rotations apply one
    // after the other instead of saving stale copies over each other.
    // A notification endpoint is a webhook row too, managed through its own operations.
    const webhook = await manager.findOne(Webhook, { where: { id, purpose: WebhookPurpose.EVENTS }, ...(forUpdate ? { lock: { mode: 'pessimistic_write' as const } } : {}) });
    if (!webhook) throw notFound('Webhook');
    await this.access.requireRole(actor, webhook.projectId, ProjectRole.ADMIN, 'manage webhooks', 'Webhook', manager);
    return webhook;
  }

  async list(actor: Actor, projectId: string): Promise<Webhook[]> {
    await this.access.requireRole(actor, projectId, ProjectRole.ADMIN, 'manage webhooks');
    return this.dataSource.getRepository(Webhook).find({ where: { projectId, purpose: WebhookPurpose.EVENTS }, order: { createdAt: 'ASC' } });
  }

  async create(actor: Actor, projectId: string, input: WebhookInputData & { name: string; url: string; triggers: WebhookTrigger[] }): Promise<Webhook> {
    await this.access.requireRole(actor, projectId, ProjectRole.ADMIN, 'manage webhooks');
    const webhook = this.dataSource.getRepository(Webhook).create({
      projectId,
      name: validateName(input.name),
      description: validateDescription(input.description),
      method: input.method ?? HttpMethod.POST,
      url: validateUrl(input.url),
      triggers: validateTriggers(input.triggers),
      headers: validateHeaders(input.headers ?? [], null),
      blueprintIds: input.blueprintIds == null ? null : await this.checkBlueprints(projectId, input.blueprintIds),
      enabled: input.enabled ?? true,
      disabledReason: null,
      signingSecret: generateSigningSecret(),
    });
    return this.dataSource.getRepository(Webhook).save(webhook);
  }

  /** Fields left out stay as they are; `headers` replaces the list (values may be omitted to keep them). */
  async update(actor: Actor, id: string, input: WebhookInputData): Promise<Webhook> {
    return this.dataSource.transaction(async (m) => {
      const webhook = await this.get(actor, id, m, true);
      if (input.name != null) webhook.name = validateName(input.name);
      if (input.description !== undefined) webhook.description = validateDescription(input.description);
      if (input.method != null) webhook.method = input.method;
      if (input.url != null) webhook.url = validateUrl(input.url);
      if (input.triggers != null) webhook.triggers = validateTriggers(input.triggers);
      if (input.headers != null) webhook.headers = validateHeaders(input.headers, webhook.headers);
      if (input.blueprintIds !== undefined) {
        webhook.blueprintIds = input.blueprintIds === null ? null : await this.checkBlueprints(webhook.projectId, input.blueprintIds, m);
      }
      if (input.enabled != null) {
        // Deliveries paused while disabled go out again: wake the workers of every process at commit.
        if (input.enabled && !webhook.enabled) await m.query(`SELECT pg_notify('cms_delivery', '')`);
        webhook.enabled = input.enabled;
        // Re-enabling clears the reason the system (or a person) gave for disabling it.
        if (input.enabled) webhook.disabledReason = null;
        // Its calls have not succeeded since it was disabled: it is FAILING until one does, and
        // that success announces the recovery.
        if (input.enabled && webhook.healthState === WebhookHealthState.DISABLED) {
          webhook.healthState = WebhookHealthState.FAILING;
          webhook.healthReason = 'Enabled again after it was disabled automatically; healthy again after its next successful call';
          webhook.healthChangedAt = new Date();
        }
        else webhook.disabledReason ??= 'Disabled by a user';
      }
      return m.save(webhook);
    });
  }

  async delete(actor: Actor, id: string): Promise<boolean> {
    const webhook = await this.get(actor, id);
    await this.dataSource.getRepository(Webhook).delete({ id: webhook.id });
    return true;
  }

  /** The old secret keeps signing (alongside the new one) for a day, so receivers can roll over. */
  async rotateSecret(actor: Actor, id: string): Promise<Webhook> {
    return this.dataSource.transaction(async (m) => {
      const webhook = await this.get(actor, id, m, true);
      webhook.previousSigningSecret = webhook.signingSecret;
      webhook.previousSecretExpiresAt = new Date(Date.now() + ROTATION_GRACE_MS);
      webhook.signingSecret = generateSigningSecret();
      return m.save(webhook);
    });
  }

  private async checkBlueprints(projectId: string, ids: string[], m: EntityManager = this.dataSource.manager): Promise<string[]> {
    const wanted = validateBlueprintIdShape(ids);
    const found = await m.findBy(Blueprint, { id: In(wanted), projectId });
    const known = new Set(found.map((b) => b.id));
    wanted.forEach((id, i) => {
      if (!known.has(id)) throw badInput(`input.blueprintIds[${i}]`, 'must be the id of a blueprint of this project');
    });
    return wanted;
  }
}
