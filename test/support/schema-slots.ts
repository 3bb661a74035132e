import {
  getNamedType,
  GraphQLField,
  GraphQLInputType,
  GraphQLNamedType,
  GraphQLObjectType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isRequiredInputField,
} from 'graphql';
import { OMIT, toJson, toLiteral } from './hostile';

/**
 * Everything the bad-input suite needs to know about the API, read from the schema itself:
 * every place a client can put a value (a "slot": an argument, an input-object field at any
 * depth, a list item), a valid value for every other place, and the operation that sends them.
 * A new argument or input field becomes a new slot without any edit here.
 */

export type Step = string | number;

export interface Slot {
  operation: 'query' | 'mutation';
  field: GraphQLField<unknown, unknown>;
  /** `['input', 'headers', 0, 'value']`: argument name, then input fields and list items. */
  path: Step[];
  type: GraphQLInputType;
}

/** `input.headers[0].value`: how the API names the place in a BAD_USER_INPUT. */
export function slotPath(slot: Slot): string {
  return slot.path.map((s) => (typeof s === 'number' ? `[${s}]` : s)).join('.').replace(/\.\[/g, '[');
}

export function slotName(slot: Slot): string {
  return `${slot.field.name}(${slotPath(slot)})`;
}

export function enumerateSlots(schema: GraphQLSchema): Slot[] {
  const slots: Slot[] = [];
  const roots: Array<['query' | 'mutation', GraphQLObjectType | null | undefined]> = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ];
  for (const [operation, root] of roots) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const visit = (path: Step[], type: GraphQLInputType, seen: Set<string>) => {
        slots.push({ operation, field, path, type });
        const inner = isNonNullType(type) ? type.ofType : type;
        if (isListType(inner)) return visit([...path, 0], inner.ofType, seen);
        if (isInputObjectType(inner) && !seen.has(inner.name)) {
          for (const f of Object.values(inner.getFields())) visit([...path, f.name], f.type, new Set([...seen, inner.name]));
        }
      };
      for (const arg of field.args) visit([arg.name], arg.type, new Set());
    }
  }
  return slots;
}

/** Ids of the fixture, by what they identify. */
export interface Fixture {
  ids: Record<'project' | 'blueprint' | 'document' | 'webhook' | 'webhookCall' | 'user' | 'apiToken' | 'event', string>;
  receiverUrl: string;
}

let unique = 0;

/** The fixture id an ID argument most likely means, from its own name, then the field's. */
function idFor(name: string, field: GraphQLField<unknown, unknown>, fixture: Fixture): string {
  const { ids } = fixture;
  const byName: Record<string, string> = {
    projectId: ids.project,
    blueprintId: ids.blueprint,
    blueprintIds: ids.blueprint,
    documentId: ids.document,
    webhookId: ids.webhook,
    userId: ids.user,
    eventId: ids.event,
  };
  if (byName[name]) return byName[name];
  const hints = `${getNamedType(field.type).name} ${field.name}`.toLowerCase();
  const order: Array<[string, string]> = [
    ['webhookcall', ids.webhookCall],
    ['webhook', ids.webhook],
    ['document', ids.document],
    ['blueprint', ids.blueprint],
    ['token', ids.apiToken],
    ['project', ids.project],
    ['user', ids.user],
  ];
  return order.find(([hint]) => hints.includes(hint))?.[1] ?? '00000000-0000-4000-8000-000000000000';
}

function stringFor(name: string, fixture: Fixture): string {
  unique += 1;
  if (name === 'email') return `valid${unique}@example.com`;
  if (name === 'url') return fixture.receiverUrl;
  if (name === 'type') return 'string';
  if (name === 'name' || name === 'apiName') return `valid_${unique}`;
  return 'valid';
}

/** A valid value of `type`; optional input fields are left out. */
export function validValue(type: GraphQLInputType, name: string, field: GraphQLField<unknown, unknown>, fixture: Fixture): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [validValue(inner.ofType, name, field, fixture)];
  if (isInputObjectType(inner)) {
    const value: Record<string, unknown> = {};
    for (const f of Object.values(inner.getFields())) {
      if (isRequiredInputField(f)) value[f.name] = validValue(f.type, f.name, field, fixture);
    }
    return value;
  }
  if (isEnumType(inner)) return inner.getValues()[0].name;
  switch (inner.name) {
    case 'ID':
      return idFor(name, field, fixture);
    case 'String':
      return stringFor(name, fixture);
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return true;
    case 'DateTime':
      return new Date(Date.now() - 3_600_000).toISOString();
    case 'JSON':
      return {};
    default:
      throw new Error(`the bad-input suite has no valid value for scalar ${inner.name}: add one`);
  }
}

/** The field's arguments: required ones valid, the slot's path leading to `hostile`. */
export function argumentsFor(slot: Slot, hostile: unknown, fixture: Fixture): Record<string, unknown> {
  const { field } = slot;
  const build = (type: GraphQLInputType, name: string, rest: Step[]): unknown => {
    if (rest.length === 0) return hostile;
    const inner = isNonNullType(type) ? type.ofType : type;
    if (isListType(inner)) return [build(inner.ofType, name, rest.slice(1))];
    if (!isInputObjectType(inner)) throw new Error(`slot path runs through ${inner.name}`);
    const value = validValue(inner, name, field, fixture) as Record<string, unknown>;
    const key = rest[0] as string;
    value[key] = build(inner.getFields()[key].type, key, rest.slice(1));
    return value;
  };
  const args: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (arg.name === slot.path[0]) args[arg.name] = build(arg.type, arg.name, slot.path.slice(1));
    else if (isRequiredArgument(arg)) args[arg.name] = validValue(arg.type, arg.name, field, fixture);
  }
  return args;
}

/** Leaf fields, and object fields a few levels down, that take no required argument. */
function selection(type: GraphQLNamedType, depth: number): string {
  if (isLeafType(type) || !isObjectType(type)) return '';
  const parts: string[] = [];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some(isRequiredArgument)) continue;
    const named = getNamedType(f.type);
    if (isLeafType(named)) parts.push(f.name);
    else if (depth < 3) {
      const inner = selection(named, depth + 1);
      if (inner) parts.push(`${f.name} ${inner}`);
    }
  }
  return parts.length > 0 ? `{ ${parts.join(' ')} }` : '';
}

/** The request body: the value in a variable (JSON) or written into the query (literal). */
export function requestBody(slot: Slot, args: Record<string, unknown>, mode: 'variables' | 'literal'): string {
  const { field } = slot;
  const used = field.args.filter((a) => a.name in args);
  const select = selection(getNamedType(field.type), 1);
  if (mode === 'literal') {
    const list = used.filter((a) => args[a.name] !== OMIT).map((a) => `${a.name}: ${toLiteral(args[a.name], a.type)}`);
    const query = `${slot.operation} { ${field.name}${list.length ? `(${list.join(', ')})` : ''} ${select} }`;
    return `{"query":${JSON.stringify(query)}}`;
  }
  const defs = used.map((a) => `$${a.name}: ${a.type.toString()}`);
  const query = `${slot.operation}${defs.length ? `(${defs.join(', ')})` : ''} { ${field.name}${
    used.length ? `(${used.map((a) => `${a.name}: $${a.name}`).join(', ')})` : ''
  } ${select} }`;
  // An omitted top-level value is a declared variable that is not provided.
  const variables = Object.fromEntries(Object.entries(args).filter(([, v]) => v !== OMIT));
  return `{"query":${JSON.stringify(query)},"variables":${toJson(variables)}}`;
}
