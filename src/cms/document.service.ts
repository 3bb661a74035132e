import { DataSource, EntityManager } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound, requireUuid } from '../common/app-error';
import { nestsDeeperThan } from '../common/json';
import { decodeCursor, Page, pageSize, toPage } from '../common/pagination';
import { inTransaction } from '../db/transaction';
import { changedDocumentFields } from '../events/event-mapping';
import { Blueprint } from './blueprint.entity';
import { Document, DocumentStatus } from './document.entity';
import { ProjectRole } from './roles';

const MAX_FIELDS_BYTES = 1024 * 1024;
/** Objects and arrays in a document's fields, the fields object itself included. */
const MAX_FIELDS_DEPTH = 32;
const MAX_TITLE = 1000;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fields must be an object whose keys are fields of the blueprint. */
function checkFields(blueprint: Blueprint, fields: unknown, allowNull: boolean): Record<string, unknown> {
  if (!isPlainObject(fields)) throw badInput('input.fields', 'must be a JSON object keyed by field name');
  const known = new Set(blueprint.fields.map((f) => f.name));
  for (const [key, value] of Object.entries(fields)) {
    if (!known.has(key)) throw badInput(`input.fields.${key}`, `is not a field of blueprint "${blueprint.apiName}"`);
    if (value === null && !allowNull) throw badInput(`input.fields.${key}`, 'must not be null when creating a document');
  }
  checkFieldsSize(fields);
  return fields;
}

/** Depth first: JSON.stringify (and PostgreSQL's jsonb) recurse, and overflow on a deep value. */
function checkFieldsSize(fields: Record<string, unknown>): void {
  if (nestsDeeperThan(fields, MAX_FIELDS_DEPTH)) throw badInput('input.fields', `must not nest objects and arrays more than ${MAX_FIELDS_DEPTH} deep`);
  if (Buffer.byteLength(JSON.stringify(fields)) > MAX_FIELDS_BYTES) throw badInput('input.fields', 'must be at most 1 MiB of JSON');
}

function checkTitle(title: string | null | undefined): string | null {
  if (title == null) return null;
  if (title.length > MAX_TITLE) throw badInput('input.title', `must be at most ${MAX_TITLE} characters`);
  return title;
}

export class DocumentService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  async get(actor: Actor | null, id: string): Promise<Document> {
    const document = await this.dataSource.getRepository(Document).findOneBy({ id });
    if (!document) throw notFound('Document');
    await this.access.requireRole(actor, document.projectId, ProjectRole.VIEWER, 'read documents', 'Document');
    return document;
  }

  async list(actor: Actor, projectId: string, args: { blueprintId?: string | null; first?: number | null; after?: string | null }): Promise<Page<Document>> {
    await this.access.requireRole(actor, projectId, ProjectRole.VIEWER, 'read documents');
    const size = pageSize(args.first);
    const cursor = decodeCursor('after', args.after);
    const query = this.dataSource
      .getRepository(Document)
      .createQueryBuilder('d')
      .where('d.project_id = :projectId', { projectId })
      .orderBy('d.created_at', 'DESC')
      .addOrderBy('d.id', 'DESC')
      .limit(size + 1);
    if (args.blueprintId != null) query.andWhere('d.blueprint_id = :blueprintId', { blueprintId: requireUuid('blueprintId', args.blueprintId) });
    if (cursor) query.andWhere('(d.created_at, d.id) < (:createdAt, :id)', cursor);
    return toPage(await query.getMany(), size);
  }

  async create(actor: Actor, projectId: string, input: { blueprintId: string; title?: string | null; fields?: unknown }): Promise<Document> {
    const blueprintId = requireUuid('input.blueprintId', input.blueprintId);
    return inTransaction(this.dataSource, actor, async (m) => {
      await this.access.requireRole(actor, projectId, ProjectRole.EDITOR, 'create documents', 'Project', m);
      const blueprint = await m.findOneBy(Blueprint, { id: blueprintId, projectId });
      if (!blueprint) throw badInput('input.blueprintId', 'must be the id of a blueprint of this project');
      const document = m.create(Document, {
        projectId,
        blueprintId,
        title: checkTitle(input.title),
        fields: input.fields == null ? {} : checkFields(blueprint, input.fields, false),
        statusId: DocumentStatus.DRAFT,
        publishedAt: null,
      });
      return m.save(document);
    });
  }

  /** Keys given replace their values, a key set to null is removed; editing a published document makes it CHANGED. */
  async update(actor: Actor, id: string, input: { title?: string | null; fields?: unknown }): Promise<Document> {
    return inTransaction(this.dataSource, actor, async (m) => {
      const document = await this.lockForWrite(m, actor, id, 'edit documents');
      const before = { ...document, fields: { ...document.fields } };
      if (input.title !== undefined) document.title = checkTitle(input.title);
      if (input.fields != null) {
        const blueprint = await m.findOneByOrFail(Blueprint, { id: document.blueprintId });
        const patch = checkFields(blueprint, input.fields, true);
        const next = { ...document.fields };
        for (const [key, value] of Object.entries(patch)) {
          if (value === null) delete next[key];
          else next[key] = value;
        }
        // The patch was within limits; the document it makes must be too.
        checkFieldsSize(next);
        document.fields = next;
      }
      // The same save carries the status change, so it fires document_field_update and document_update together.
      const edited = changedDocumentFields(before, document).length > 0;
      if (edited && document.statusId === DocumentStatus.PUBLISHED) document.statusId = DocumentStatus.CHANGED;
      return edited ? m.save(document) : document;
    });
  }

  async setStatus(actor: Actor, id: string, status: DocumentStatus): Promise<Document> {
    if (status === DocumentStatus.CHANGED) {
      throw badInput('status', 'CHANGED cannot be set directly: it follows from editing a PUBLISHED document');
    }
    return inTransaction(this.dataSource, actor, async (m) => {
      const document = await this.lockForWrite(m, actor, id, 'change the status of documents');
      document.statusId = status;
      if (status === DocumentStatus.PUBLISHED) document.publishedAt = new Date();
      if (status === DocumentStatus.DRAFT) document.publishedAt = null;
      return m.save(document);
    });
  }

  async delete(actor: Actor, id: string): Promise<boolean> {
    return inTransaction(this.dataSource, actor, async (m) => {
      const document = await this.lockForWrite(m, actor, id, 'delete documents');
      await m.remove(document);
      return true;
    });
  }

  private async lockForWrite(m: EntityManager, actor: Actor, id: string, action: string): Promise<Document> {
    const document = await m.findOne(Document, { where: { id }, lock: { mode: 'pessimistic_write' } });
    if (!document) throw notFound('Document');
    await this.access.requireRole(actor, document.projectId, ProjectRole.EDITOR, action, 'Document', m);
    return document;
  }
}
