import type { EntityManager } from 'typeorm';
import { DocumentStatus } from '../cms/document.entity';
import type { EventContext } from '../events/domain-event.entity';
import { BodyFormat, compileCached, DEFAULT_CONTENT_TYPE, renderTemplate, TemplateError } from './body-template';
import { buildPayload, buildPayloadBody, type PayloadEvent } from './payload';

/**
 * The body a webhook is sent for an event: the contract payload, or the webhook's template
 * rendered against the event. Built once (at fan-out, or for a test send) and stored, so every
 * retry sends and signs the same bytes, whatever happens to the webhook or the CMS meanwhile.
 */

/** A webhook's body settings (null template: the contract payload). */
export interface BodySpec {
  bodyTemplate: string | null;
  bodyFormat: BodyFormat;
  bodyContentType: string | null;
}

/** What the event alone does not say: names and titles, read at fan-out or snapshotted in the event. */
export interface TemplateFacts {
  context: EventContext | null;
  projectName: string | null;
  /** The event's blueprint as it is now; the event's own snapshot wins (a deleted blueprint has none). */
  blueprint: { name: string; api_name: string } | null;
}

export interface BuiltBody {
  body: string;
  contentType: string;
  /** Set when the template could not be rendered: the attempt fails with it, nothing is sent. */
  error: string | null;
}

export const CONTRACT_CONTENT_TYPE = DEFAULT_CONTENT_TYPE[BodyFormat.JSON];

export function contentTypeOf(spec: BodySpec): string {
  return spec.bodyTemplate === null ? CONTRACT_CONTENT_TYPE : (spec.bodyContentType ?? DEFAULT_CONTENT_TYPE[spec.bodyFormat]);
}

const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DocumentStatus).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k]),
);

/** The values placeholders resolve against; see PLACEHOLDER_SHAPE for the names. */
export function templateScope(event: PayloadEvent, webhookId: string, facts: TemplateFacts): Record<string, unknown> {
  const payload = buildPayload(event, webhookId);
  const m = event.metadata;
  const statusId = m.document_status_id ?? null;
  const blueprint = facts.context?.blueprint ?? facts.blueprint;
  return {
    ...payload,
    payload,
    changed_fields: m.changed_fields ?? null,
    triggered_user_id: m.triggered_user_id ?? null,
    created_at: m.created_at,
    document: m.document_id
      ? { id: m.document_id, title: facts.context?.document?.title ?? null, status: statusId === null ? null : (STATUS_NAMES[statusId] ?? null), status_id: statusId }
      : null,
    blueprint: m.blueprint_id ? { id: m.blueprint_id, name: blueprint?.name ?? null, api_name: blueprint?.api_name ?? null } : null,
    project: { id: event.projectId, name: facts.projectName },
  };
}

export function buildBody(spec: BodySpec, event: PayloadEvent, webhookId: string, facts: TemplateFacts | null): BuiltBody {
  const contentType = contentTypeOf(spec);
  if (spec.bodyTemplate === null) return { body: buildPayloadBody(event, webhookId), contentType, error: null };
  const scope = templateScope(event, webhookId, facts ?? { context: null, projectName: null, blueprint: null });
  try {
    return { body: renderTemplate(compileCached(spec.bodyTemplate, spec.bodyFormat), scope), contentType, error: null };
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return { body: '', contentType, error: `body template: ${error.message}` };
  }
}

/** What a test send or a sample preview shows for names it has no event for. */
export const SAMPLE_CONTEXT: EventContext = {
  document: { title: 'Sample document' },
  blueprint: { name: 'Sample blueprint', api_name: 'sample_blueprint' },
};

interface FactsRow {
  id: string;
  context: EventContext | null;
  project_name: string | null;
  blueprint_name: string | null;
  blueprint_api_name: string | null;
}

/** Facts for the events given, in one query; only asked for when a template needs them. */
export async function loadTemplateFacts(manager: EntityManager, eventIds: readonly string[]): Promise<Map<string, TemplateFacts>> {
  const rows: FactsRow[] = await manager.query(
    `SELECT e.id, e.context, p.name AS project_name, b.name AS blueprint_name, b.api_name AS blueprint_api_name
       FROM domain_event e
       LEFT JOIN project p ON p.id = e.project_id
       LEFT JOIN blueprint b ON b.id = e.blueprint_id
      WHERE e.id = ANY($1::uuid[])`,
    [eventIds],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        context: r.context,
        projectName: r.project_name,
        blueprint: r.blueprint_name === null ? null : { name: r.blueprint_name, api_name: r.blueprint_api_name ?? '' },
      },
    ]),
  );
}
