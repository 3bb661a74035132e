import crypto from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AccessService } from '../auth/access.service';
import type { Actor } from '../auth/actor';
import { badInput, notFound } from '../common/app-error';
import { isUniqueViolation } from '../db/errors';
import { inTransaction } from '../db/transaction';
import { Blueprint, BlueprintField, BlueprintVariant } from './blueprint.entity';
import { Document } from './document.entity';
import { ProjectRole } from './roles';

export interface BlueprintFieldInputData {
  name: string;
  type: string;
}

export interface BlueprintInputData {
  name?: string | null;
  apiName?: string | null;
  variant?: BlueprintVariant | null;
  fields?: BlueprintFieldInputData[] | null;
}

const API_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const FIELD_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
const MAX_FIELDS = 200;

/** "Blog Post" → "blogPost": a usable API name when the caller gives none. */
export function deriveApiName(name: string): string {
  const words = name.normalize('NFKD').replace(/[^A-Za-z0-9]+/g, ' ').trim().split(/\s+/).filter(Boolean);
  const camel = words.map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase())).join('');
  const safe = /^[A-Za-z]/.test(camel) ? camel : `bp${camel}`;
  return safe.slice(0, 64) || 'blueprint';
}

/**
 * Field ids stay stable across updates for fields that keep their name, so a client that
 * stored a field id is not broken by an unrelated edit of the list.
 */
function buildFields(input: BlueprintFieldInputData[], previous: BlueprintField[]): BlueprintField[] {
  if (input.length > MAX_FIELDS) throw badInput('input.fields', `must have at most ${MAX_FIELDS} fields`);
  const seen = new Set<string>();
  return input.map((field, i) => {
    if (!FIELD_NAME.test(field.name)) {
      throw badInput(`input.fields[${i}].name`, 'must start with a letter or _ and contain only letters, digits and _ (at most 64)');
    }
    // A document's fields are a JSON object: a key named __proto__ is lost on the way to the
    // database (object merges assign it as the prototype), so the value would silently vanish.
    if (field.name === '__proto__') throw badInput(`input.fields[${i}].name`, 'must not be __proto__');
    if (!FIELD_TYPE.test(field.type)) {
      throw badInput(`input.fields[${i}].type`, 'must be a lower-case type name such as string, number, boolean, richtext, reference or asset');
    }
    if (seen.has(field.name.toLowerCase())) throw badInput(`input.fields[${i}].name`, `duplicates another field named "${field.name}"`);
    seen.add(field.name.toLowerCase());
    const kept = previous.find((p) => p.name === field.name);
    return { id: kept?.id ?? crypto.randomUUID(), name: field.name, type: field.type };
  });
}

export class BlueprintService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: AccessService,
  ) {}

  async get(actor: Actor | null, id: string): Promise<Blueprint> {
    const blueprint = await this.dataSource.getRepository(Blueprint).findOneBy({ id });
    if (!blueprint) throw notFound('Blueprint');
    await this.access.requireRole(actor, blueprint.projectId, ProjectRole.VIEWER, 'read blueprints', 'Blueprint');
    return blueprint;
  }

  async list(actor: Actor, projectId: string): Promise<Blueprint[]> {
    await this.access.requireRole(actor, projectId, ProjectRole.VIEWER, 'read blueprints');
    return this.dataSource.getRepository(Blueprint).find({ where: { projectId }, order: { createdAt: 'ASC' } });
  }

  async create(actor: Actor, projectId: string, input: BlueprintInputData & { name: string }): Promise<Blueprint> {
    return this.apiNameRace(input.apiName, () => inTransaction(this.dataSource, actor, async (m) => {
      await this.access.requireRole(actor, projectId, ProjectRole.ADMIN, 'create blueprints', 'Project', m);
      const name = this.validName(input.name);
      const apiName = input.apiName ?? deriveApiName(name);
      await this.checkApiName(m, projectId, apiName, null);
      const blueprint = m.create(Blueprint, {
        projectId,
        name,
        apiName,
        variant: input.variant ?? BlueprintVariant.DOCUMENT,
        fields: buildFields(input.fields ?? [], []),
      });
      return m.save(blueprint);
    }));
  }

  async update(actor: Actor, id: string, input: BlueprintInputData): Promise<Blueprint> {
    return this.apiNameRace(input.apiName, () => inTransaction(this.dataSource, actor, async (m) => {
      const blueprint = await m.findOne(Blueprint, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!blueprint) throw notFound('Blueprint');
      await this.access.requireRole(actor, blueprint.projectId, ProjectRole.ADMIN, 'change blueprints', 'Blueprint', m);
      if (input.name != null) blueprint.name = this.validName(input.name);
      if (input.apiName != null && input.apiName !== blueprint.apiName) {
        await this.checkApiName(m, blueprint.projectId, input.apiName, blueprint.id);
        blueprint.apiName = input.apiName;
      }
      if (input.fields != null) blueprint.fields = buildFields(input.fields, blueprint.fields);
      return m.save(blueprint);
    }));
  }

  /** The pre-check above cannot see a concurrent insert; the unique index can, and says the same. */
  private async apiNameRace<T>(apiName: string | null | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error, 'blueprint_project_api_name_key')) {
        throw badInput('input.apiName', `${apiName ? `"${apiName}"` : 'the API name'} is already used by another blueprint of this project`);
      }
      throw error;
    }
  }

  /** Refused while documents use the blueprint: deleting them silently would lose content. */
  async delete(actor: Actor, id: string): Promise<boolean> {
    return inTransaction(this.dataSource, actor, async (m) => {
      const blueprint = await m.findOne(Blueprint, { where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!blueprint) throw notFound('Blueprint');
      await this.access.requireRole(actor, blueprint.projectId, ProjectRole.ADMIN, 'delete blueprints', 'Blueprint', m);
      const documents = await m.countBy(Document, { blueprintId: id });
      if (documents > 0) throw badInput('id', `blueprint still has ${documents} document(s); delete them first`);
      await m.remove(blueprint);
      return true;
    });
  }

  private validName(name: string): string {
    const trimmed = name.trim();
    if (trimmed.length < 1 || trimmed.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
    return trimmed;
  }

  private async checkApiName(m: EntityManager, projectId: string, apiName: string, selfId: string | null): Promise<void> {
    if (!API_NAME.test(apiName)) {
      throw badInput('input.apiName', 'must start with a letter and contain only letters, digits and _ (at most 64)');
    }
    const clash = await m.findOneBy(Blueprint, { projectId, apiName });
    if (clash && clash.id !== selfId) throw badInput('input.apiName', `"${apiName}" is already used by another blueprint of this project`);
  }
}
