import { Context, Liquid, TokenKind, type Template } from 'liquidjs';
import { badInput } from '../common/app-error';

/**
 * Body templates: what a webhook sends instead of the contract payload. Placeholders use
 * Liquid's output syntax (`{{ metadata.document_id }}`, with a few filters), rendered by
 * liquidjs, which evaluates no JavaScript. Tags (`{% … %}`: loops, includes, assignments)
 * are refused outright, so a template can neither read files nor loop: rendering is one pass
 * over the template, and its output is capped.
 *
 * JSON format: the template is a JSON document; each string value may hold placeholders. A
 * string that is exactly one placeholder is replaced by the value with its JSON type (a
 * number stays a number, `changed_fields` an array); any other string is interpolated as
 * text. TEXT format: the whole template is interpolated as text.
 */

export enum BodyFormat {
  JSON = 'JSON',
  TEXT = 'TEXT',
}

export const TEMPLATE_LIMITS = {
  templateMaxBytes: 16 * 1024,
  renderedMaxBytes: 256 * 1024,
  contentTypeMax: 255,
} as const;

export const DEFAULT_CONTENT_TYPE: Record<BodyFormat, string> = {
  [BodyFormat.JSON]: 'application/json',
  [BodyFormat.TEXT]: 'text/plain; charset=utf-8',
};

/** Filters that transform one value; none iterates, reads anything or builds large output from small input. */
export const ALLOWED_FILTERS = [
  'default', 'upcase', 'downcase', 'capitalize', 'strip', 'truncate', 'replace', 'append', 'prepend',
  'join', 'size', 'first', 'last', 'url_encode', 'json',
] as const;

type Shape = 'value' | 'array' | { [key: string]: Shape };

const PAYLOAD_SHAPE: { [key: string]: Shape } = {
  event_id: 'value',
  metadata: {
    blueprint_id: 'value', document_id: 'value', document_status_id: 'value', changed_fields: 'array',
    user_id: 'value', role: 'value', triggered_user_id: 'value', created_at: 'value',
  },
  scope: { project_id: 'value' },
  webhook: { trigger: 'value', webhook_id: 'value' },
};

/** Every placeholder a template may use (the README's list is this one). */
export const PLACEHOLDER_SHAPE: { [key: string]: Shape } = {
  ...PAYLOAD_SHAPE,
  payload: PAYLOAD_SHAPE,
  changed_fields: 'array',
  triggered_user_id: 'value',
  created_at: 'value',
  document: { id: 'value', title: 'value', status: 'value', status_id: 'value' },
  blueprint: { id: 'value', name: 'value', api_name: 'value' },
  project: { id: 'value', name: 'value' },
};

/** A leaf path per line, for error messages and documentation. */
export function placeholderList(shape: { [key: string]: Shape } = PLACEHOLDER_SHAPE, prefix = ''): string[] {
  return Object.entries(shape).flatMap(([key, sub]) => (typeof sub === 'string' ? [`${prefix}${key}`] : placeholderList(sub, `${prefix}${key}.`)));
}

const ARRAY_PROPERTIES = new Set(['size', 'first', 'last']);

/** Whether a path of property names (and array indexes) leads somewhere in PLACEHOLDER_SHAPE. */
function knownPath(segments: ReadonlyArray<unknown>): boolean {
  let shape: Shape = PLACEHOLDER_SHAPE;
  for (const segment of segments) {
    if (shape === 'value') return false;
    if (shape === 'array') {
      if (typeof segment === 'number' || (typeof segment === 'string' && ARRAY_PROPERTIES.has(segment))) shape = 'value';
      else return false;
      continue;
    }
    if (typeof segment !== 'string' || !Object.hasOwn(shape, segment)) return false;
    shape = shape[segment];
  }
  return true;
}

const options = { strictFilters: true, ownPropertyOnly: true, cache: false } as const;
/** Text interpolation: a value becomes text the same way in JSON strings and TEXT bodies. */
const textEngine = new Liquid({ ...options, outputEscape: (value: unknown) => toText(value) });
/** A string that is one placeholder: the value itself, JSON type kept. */
const typedEngine = new Liquid({ ...options, keepOutputType: true });

/** Strings as they are, null and missing values as nothing, anything else as JSON. */
export function toText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Node =
  | { kind: 'literal'; value: unknown }
  | { kind: 'typed'; template: Template[] }
  | { kind: 'text'; template: Template[] }
  | { kind: 'array'; items: Node[] }
  | { kind: 'object'; entries: Array<[string, Node]> };

export interface CompiledTemplate {
  format: BodyFormat;
  root: Node;
}

const ALLOWED_VALUE_TOKENS = TokenKind.PropertyAccess | TokenKind.Quoted | TokenKind.Number | TokenKind.Literal | TokenKind.Word;

type OutputValue = { initial: { postfix: unknown[] }; filters: Array<{ name: string; args: unknown[] }> };

/** Anything but text and {{ … }} outputs: tags read files, loop and assign, so none is accepted. */
function refuseTags(templates: Template[]): void {
  for (const t of templates) {
    const token = (t as { token?: { kind: number; getText(): string } }).token;
    if (!token || token.kind === TokenKind.HTML || token.kind === TokenKind.Output) continue;
    throw new TemplateError(`tags such as "${token.getText().slice(0, 40)}" are not allowed: use {{ placeholder }} only`);
  }
}

/** Only values, property paths and the allowed filters: no ranges, no operators. */
function refuseExpressions(templates: Template[]): void {
  for (const t of templates) {
    const token = (t as { token?: { kind: number; getText(): string } }).token;
    if (!token || token.kind !== TokenKind.Output) continue;
    const value = (t as unknown as { value: OutputValue }).value;
    const text = token.getText();
    for (const part of value.initial.postfix) checkValueToken(part, text);
    for (const filter of value.filters) {
      if (!(ALLOWED_FILTERS as readonly string[]).includes(filter.name)) {
        throw new TemplateError(`filter "${filter.name}" in "${text}" is not allowed (allowed: ${ALLOWED_FILTERS.join(', ')})`);
      }
      for (const arg of filter.args) {
        // A keyword argument is a [name, value] pair.
        if (Array.isArray(arg)) checkValueToken(arg[1], text);
        else checkValueToken(arg, text);
      }
    }
  }
}

function checkValueToken(token: unknown, text: string): void {
  const t = token as { kind?: number; props?: unknown[] };
  if (t === undefined || typeof t.kind !== 'number') return;
  if ((t.kind & ALLOWED_VALUE_TOKENS) === 0) throw new TemplateError(`"${text}" may only hold a placeholder, quoted text or a number, with filters`);
  for (const prop of t.props ?? []) checkValueToken(prop, text);
}

/**
 * Checks one string and returns the typed engine's parse of it, whose filter chains are
 * exactly what the template wrote (the text engine appends its escape); tags are refused before the
 * static analysis, which would otherwise follow an include to the file system.
 */
function parseChecked(source: string): Template[] {
  let templates: Template[];
  try {
    templates = typedEngine.parse(source);
  } catch (error) {
    throw new TemplateError(`cannot be parsed: ${(error as Error).message.replace(/, line:\d+, col:\d+$/, '')}`);
  }
  refuseTags(templates);
  for (const segments of typedEngine.globalVariableSegmentsSync(templates)) {
    if (!knownPath(segments)) {
      const name = segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : typeof s !== 'string' ? '[…]' : i === 0 ? s : `.${s}`)).join('');
      throw new TemplateError(`unknown placeholder "${name}" (known: ${placeholderList().join(', ')})`);
    }
  }
  refuseExpressions(templates);
  return templates;
}

const PLACEHOLDER_START = /\{[{%]/;

function compileString(source: string): Node {
  if (!PLACEHOLDER_START.test(source)) return { kind: 'literal', value: source };
  const templates = parseChecked(source);
  const single = templates.length === 1 && (templates[0] as { token?: { kind: number } }).token?.kind === TokenKind.Output;
  return single ? { kind: 'typed', template: templates } : { kind: 'text', template: textEngine.parse(source) };
}

function compileJson(value: unknown, path: string): Node {
  if (typeof value === 'string') return compileString(value);
  if (Array.isArray(value)) return { kind: 'array', items: value.map((item, i) => compileJson(item, `${path}[${i}]`)) };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'object',
      // Keys are taken as written: a receiver's field names are fixed, and a key made of values could collide.
      entries: Object.entries(value).map(([key, item]) => [key, compileJson(item, `${path}.${key}`)]),
    };
  }
  return { kind: 'literal', value };
}

/** Parses and checks a template; a TemplateError says what is wrong in terms a person can act on. */
export function compileTemplate(source: string, format: BodyFormat): CompiledTemplate {
  if (Buffer.byteLength(source) > TEMPLATE_LIMITS.templateMaxBytes) throw new TemplateError(`must be at most ${TEMPLATE_LIMITS.templateMaxBytes / 1024} KiB`);
  if (format === BodyFormat.TEXT) return { format, root: compileString(source) };
  let json: unknown;
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw new TemplateError(`must be valid JSON (${(error as Error).message})`);
  }
  return { format, root: compileJson(json, '') };
}

/** compileTemplate for API input: a TemplateError becomes BAD_USER_INPUT naming the field. */
export function validateTemplate(source: string, format: BodyFormat, field = 'input.bodyTemplate'): CompiledTemplate {
  try {
    return compileTemplate(source, format);
  } catch (error) {
    if (error instanceof TemplateError) throw badInput(field, error.message);
    throw error;
  }
}

/** One context per engine and render: building one per string cost a third of a typed string's render. */
interface Contexts {
  typed: Context;
  text: Context;
}

function renderNode(node: Node, contexts: Contexts): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'typed':
      return typedEngine.renderSync(node.template, contexts.typed) ?? null;
    case 'text':
      return textEngine.renderSync(node.template, contexts.text);
    case 'array':
      return node.items.map((item) => renderNode(item, contexts));
    case 'object':
      return Object.fromEntries(node.entries.map(([key, item]) => [key, renderNode(item, contexts)]));
  }
}

/** The body to send. Throws a TemplateError when a filter fails or the body is over the cap. */
export function renderTemplate(compiled: CompiledTemplate, scope: object): string {
  let body: string;
  try {
    const sync = { sync: true };
    const contexts = {
      typed: new Context(scope, typedEngine.options, sync, { liquid: typedEngine }),
      text: new Context(scope, textEngine.options, sync, { liquid: textEngine }),
    };
    const value = renderNode(compiled.root, contexts);
    body = compiled.format === BodyFormat.TEXT ? toText(value) : JSON.stringify(value);
  } catch (error) {
    if (error instanceof TemplateError) throw error;
    throw new TemplateError(`rendering failed: ${(error as Error).message}`);
  }
  if (Buffer.byteLength(body) > TEMPLATE_LIMITS.renderedMaxBytes) {
    throw new TemplateError(`the rendered body is over ${TEMPLATE_LIMITS.renderedMaxBytes / 1024} KiB`);
  }
  return body;
}

const compiledCache = new Map<string, CompiledTemplate>();
const CACHE_SIZE = 256;

/** compileTemplate, remembered: fan-out renders one template for many events. */
export function compileCached(source: string, format: BodyFormat): CompiledTemplate {
  const key = `${format}\u0000${source}`;
  let compiled = compiledCache.get(key);
  if (!compiled) {
    compiled = compileTemplate(source, format);
    if (compiledCache.size >= CACHE_SIZE) compiledCache.delete(compiledCache.keys().next().value!);
    compiledCache.set(key, compiled);
  }
  return compiled;
}

/** A media type (RFC 9110 §8.3.1): type/subtype with optional parameters, sendable as a header. */
const MEDIA_TYPE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+=(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"[\t\x20\x21\x23-\x5b\x5d-\x7e]*"))*$/;

export function validateContentType(value: string | null | undefined, format: BodyFormat, field = 'input.bodyContentType'): string | null {
  if (value == null || value === '') return null;
  if (value.length > TEMPLATE_LIMITS.contentTypeMax) throw badInput(field, `must be at most ${TEMPLATE_LIMITS.contentTypeMax} characters`);
  if (!MEDIA_TYPE.test(value)) throw badInput(field, 'must be a media type such as "text/plain; charset=utf-8"');
  const essence = value.split(';')[0].trim().toLowerCase();
  if (format === BodyFormat.JSON && essence !== 'application/json' && !essence.endsWith('+json')) {
    throw badInput(field, 'must be application/json or a +json type for a JSON body (use bodyFormat TEXT for other types)');
  }
  return value;
}
