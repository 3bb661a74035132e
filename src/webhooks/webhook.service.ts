import { DataSource, EntityManager, In } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound } from '../common/app-error';
import { Blueprint } from '../cms/blueprint.entity';
import { ProjectRole } from '../cms/roles';
import { type BodySpec, buildBody, SAMPLE_CONTEXT } from '../delivery/body';
import { BodyFormat, validateContentType, validateTemplate } from '../delivery/body-template';
import { sampleEvent } from '../delivery/payload';
import { generateSigningSecret } from '../delivery/signing';
import { WebhookHealthState, WebhookPurpose } from '../health/health.constants';
import { HttpMethod, WebhookTrigger } from './triggers';
import { StoredActorFilter, Webhook } from './webhook.entity';
import { webhookDisabled } from '../observability/metrics';
import { ActorFilterInput, validateActorFilterShape, validateChangedFields, validateDocumentStatuses } from './webhook-filters';
import type { DocumentStatus } from '../cms/document.entity';
import {
  HeaderInput,
  TRACE_HEADERS,
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
  documentStatuses?: DocumentStatus[] | null;
  changedFields?: string[] | null;
  actorFilter?: ActorFilterInput | null;
  enabled?: boolean | null;
  sendTraceContext?: boolean | null;
  fifo?: boolean | null;
  bodyTemplate?: string | null;
  bodyFormat?: BodyFormat | null;
  bodyContentType?: string | null;
}

/**
 * Checks a webhook's body settings as a whole (a format change re-checks the stored template)
 * and renders the template once against a sample of each trigger, so a filter that fails on
 * real values is refused now rather than failing deliveries later. `prefix` names the input.
 */
export function validateBodySpec(spec: BodySpec, triggers: readonly WebhookTrigger[], prefix = 'input'): BodySpec {
  const bodyFormat = spec.bodyFormat;
  const bodyContentType = validateContentType(spec.bodyContentType, bodyFormat, `${prefix}.bodyContentType`);
  if (spec.bodyTemplate === null) return { bodyTemplate: null, bodyFormat, bodyContentType };
  validateTemplate(spec.bodyTemplate, bodyFormat, `${prefix}.bodyTemplate`);
  const checked = { bodyTemplate: spec.bodyTemplate, bodyFormat, bodyContentType };
  for (const trigger of triggers) {
    const sample = sampleEvent(trigger, '00000000-0000-4000-8000-000000000000');
    const built = buildBody(checked, sample, '00000000-0000-4000-8000-000000000000', { context: SAMPLE_CONTEXT, projectName: 'Sample project', blueprint: null });
    if (built.error) throw badInput(`${prefix}.bodyTemplate`, `${built.error.replace(/^body template: /, '')} (for a sample ${trigger} event)`);
  }
  return checked;
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
      documentStatuses: input.documentStatuses == null ? null : validateDocumentStatuses(input.documentStatuses),
      changedFields: input.changedFields == null ? null : await this.checkChangedFields(projectId, input.changedFields, input.blueprintIds ?? null),
      actorFilter: input.actorFilter == null ? null : await this.checkActorFilter(actor, projectId, input.actorFilter),
      enabled: input.enabled ?? true,
      fifo: input.fifo ?? false,
      ...validateBodySpec(
        { bodyTemplate: input.bodyTemplate ?? null, bodyFormat: input.bodyFormat ?? BodyFormat.JSON, bodyContentType: input.bodyContentType ?? null },
        input.triggers,
      ),
      disabledReason: null,
      sendTraceContext: input.sendTraceContext ?? false,
      signingSecret: generateSigningSecret(),
    });
    checkTraceHeaders(webhook);
    return this.dataSource.getRepository(Webhook).save(webhook);
  }

  /** Fields left out stay as they are; `headers` replaces the list (values may be omitted to keep them). */
  async update(actor: Actor, id: string, input: WebhookInputData): Promise<Webhook> {
    let disabledNow = false;
    const saved = await this.dataSource.transaction(async (m) => {
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
      // Deliveries a FIFO webhook held back may all go now.
      if (input.fifo != null && !input.fifo && webhook.fifo) await m.query(`SELECT pg_notify('cms_delivery', '')`);
      if (input.fifo != null) webhook.fifo = input.fifo;
      // Like blueprintIds: left out keeps the filter, null removes it.
      if (input.documentStatuses !== undefined) {
        webhook.documentStatuses = input.documentStatuses === null ? null : validateDocumentStatuses(input.documentStatuses);
      }
      if (input.changedFields !== undefined) {
        webhook.changedFields = input.changedFields === null ? null : await this.checkChangedFields(webhook.projectId, input.changedFields, webhook.blueprintIds, m);
      }
      if (input.actorFilter !== undefined) {
        webhook.actorFilter = input.actorFilter === null ? null : await this.checkActorFilter(actor, webhook.projectId, input.actorFilter, m);
      }
      if (input.bodyTemplate !== undefined || input.bodyFormat != null || input.bodyContentType !== undefined || input.triggers != null) {
        // Deliveries already queued keep the body rendered at fan-out: a template applies to events after the save.
        Object.assign(
          webhook,
          validateBodySpec(
            {
              bodyTemplate: input.bodyTemplate === undefined ? webhook.bodyTemplate : input.bodyTemplate,
              bodyFormat: input.bodyFormat ?? webhook.bodyFormat,
              bodyContentType: input.bodyContentType === undefined ? webhook.bodyContentType : input.bodyContentType,
            },
            webhook.triggers,
          ),
        );
      }
      if (input.enabled != null) {
        // Deliveries paused while disabled go out again: wake the workers of every process at commit.
        if (input.enabled && !webhook.enabled) await m.query(`SELECT pg_notify('cms_delivery', '')`);
        disabledNow = !input.enabled && webhook.enabled;
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
      if (input.sendTraceContext != null) webhook.sendTraceContext = input.sendTraceContext;
      checkTraceHeaders(webhook);
      return m.save(webhook);
    });
    // Counted once committed: a rolled-back update disabled nothing.
    if (disabledNow) webhookDisabled('manual');
    return saved;
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

  /**
   * Users must be members of the project (or the caller), tokens must be theirs: a webhook
   * cannot be used to probe which users and tokens exist elsewhere. Revoked tokens count, so
   * a filter saved before a revocation can be saved again.
   */
  private async checkActorFilter(actor: Actor, projectId: string, input: ActorFilterInput, m: EntityManager = this.dataSource.manager): Promise<StoredActorFilter> {
    const filter = validateActorFilterShape(input);
    const allowed = (rows: Array<{ id: string }>) => new Set(rows.map((r) => r.id));
    const users = allowed(
      filter.userIds.length === 0 ? [] : await m.query(
        `SELECT u.id FROM app_user u WHERE u.id = ANY($1::uuid[])
            AND (u.id = $3 OR EXISTS (SELECT 1 FROM project_member pm WHERE pm.project_id = $2 AND pm.user_id = u.id))`,
        [filter.userIds, projectId, actor.user.id],
      ),
    );
    filter.userIds.forEach((id, i) => {
      if (!users.has(id)) throw badInput(`input.actorFilter.userIds[${i}]`, 'must be the id of a member of this project');
    });
    const tokens = allowed(
      filter.tokenIds.length === 0 ? [] : await m.query(
        `SELECT t.id FROM api_token t WHERE t.id = ANY($1::uuid[])
            AND (t.user_id = $3 OR EXISTS (SELECT 1 FROM project_member pm WHERE pm.project_id = $2 AND pm.user_id = t.user_id))`,
        [filter.tokenIds, projectId, actor.user.id],
      ),
    );
    filter.tokenIds.forEach((id, i) => {
      if (!tokens.has(id)) throw badInput(`input.actorFilter.tokenIds[${i}]`, 'must be the id of an API token of a member of this project');
    });
    return filter;
  }

  /**
   * Documents hold only their blueprint's fields, so a name no blueprint has (a typo) would
   * silently filter everything out: it must be `title` or a field of the webhook's blueprints
   * (of any blueprint of the project when the webhook has no blueprint filter).
   */
  private async checkChangedFields(projectId: string, input: string[], blueprintIds: string[] | null, m: EntityManager = this.dataSource.manager): Promise<string[]> {
    const names = validateChangedFields(input);
    const blueprints = await m.findBy(Blueprint, blueprintIds === null ? { projectId } : { projectId, id: In(blueprintIds) });
    const known = new Set(['title', ...blueprints.flatMap((b) => b.fields.map((f) => f.name))]);
    names.forEach((name, i) => {
      if (!known.has(name)) {
        throw badInput(`input.changedFields[${i}]`, `must be title or a field of ${blueprintIds === null ? 'a blueprint of this project' : "the webhook's blueprints"}`);
      }
    });
    return names;
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

/** With trace context on, the sender sets traceparent (and owns tracestate): a header of the webhook's own by those names would contradict it. */
function checkTraceHeaders(webhook: Pick<Webhook, 'sendTraceContext' | 'headers'>): void {
  if (!webhook.sendTraceContext) return;
  const index = webhook.headers.findIndex((h) => TRACE_HEADERS.has(h.name.toLowerCase()));
  if (index >= 0) {
    throw badInput(`input.headers[${index}].name`, `"${webhook.headers[index].name}" is set by the webhook sender when sendTraceContext is true`);
  }
}
