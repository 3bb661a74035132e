import { defaultFieldResolver, GraphQLFieldResolver, GraphQLSchema, isObjectType } from 'graphql';
import { AppError, badInput } from '../common/app-error';

/**
 * The one place that refuses text PostgreSQL cannot store: U+0000 (text and jsonb reject it)
 * and unpaired UTF-16 surrogates (jsonb rejects them; text would silently store U+FFFD instead).
 *
 * It runs on the argument values graphql-js hands to every field with arguments, after
 * coercion: literals and variables alike, every transport (HTTP and WebSocket), queries,
 * mutations and subscriptions, and strings at any depth of a JSON value. A new argument or
 * input field is covered without an edit here.
 */

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `text` cannot be stored, or null. */
export function unstorableTextRule(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain U+0000';
  if (UNPAIRED_SURROGATE.test(text)) return 'must be valid Unicode (unpaired surrogate)';
  return null;
}

/** Deeper than this, a path is cut short: a message need not spell out ten thousand levels. */
const PATH_MAX = 200;

/** `.name` or `[2]`, or `["odd key"]` (JSON-escaped, so the message itself stays clean text). */
function child(path: string, step: string | number): string {
  if (path.length > PATH_MAX) return path.endsWith('…') ? path : `${path}…`;
  if (typeof step === 'number') return `${path}[${step}]`;
  return PLAIN_KEY.test(step) ? `${path}.${step}` : `${path}[${JSON.stringify(step)}]`;
}

/**
 * The first string in `value` (a value, or an object key) that cannot be stored, with its
 * path from `path` (e.g. `input.headers[2].value`, `input.fields.body`). Walks with its own
 * stack, not recursion: a JSON value may nest deeper than the call stack.
 */
export function findUnstorableText(value: unknown, path: string): { field: string; rule: string } | null {
  const stack: Array<[unknown, string]> = [[value, path]];
  while (stack.length > 0) {
    const [current, at] = stack.pop()!;
    if (typeof current === 'string') {
      const rule = unstorableTextRule(current);
      if (rule) return { field: at, rule };
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], child(at, i)]);
    } else if (typeof current === 'object' && current !== null && !(current instanceof Date)) {
      const keys = Object.keys(current);
      for (let i = keys.length - 1; i >= 0; i--) {
        const rule = unstorableTextRule(keys[i]);
        if (rule) return { field: child(at, keys[i]), rule: `names a key that ${rule}` };
        stack.push([(current as Record<string, unknown>)[keys[i]], child(at, keys[i])]);
      }
    }
  }
  return null;
}

/**
 * An error thrown where a subscription starts reaches the client without passing through
 * formatError (see webhook-call.resolver.ts), so it carries its code itself.
 */
function refusal(field: string, rule: string): AppError {
  const error = badInput(field, rule);
  return Object.assign(error, { extensions: { code: error.code, field } });
}

function check(argNames: readonly string[], args: Record<string, unknown>): void {
  for (const name of argNames) {
    if (!(name in args)) continue;
    const found = findUnstorableText(args[name], name);
    if (found) throw refusal(found.field, found.rule);
  }
}

/** Wraps `resolve` (and `subscribe`) of every field that takes arguments. Returns the same schema. */
export function guardArgumentText(schema: GraphQLSchema): GraphQLSchema {
  const subscriptionType = schema.getSubscriptionType();
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.args.length === 0) continue;
      const names = field.args.map((a) => a.name);
      const resolve: GraphQLFieldResolver<unknown, unknown> = field.resolve ?? defaultFieldResolver;
      field.resolve = (source, args, context, info) => {
        check(names, args);
        return resolve(source, args, context, info);
      };
      const subscribe = field.subscribe ?? (type === subscriptionType ? defaultFieldResolver : undefined);
      if (subscribe) {
        field.subscribe = (source, args, context, info) => {
          check(names, args);
          return subscribe(source, args, context, info);
        };
      }
    }
  }
  return schema;
}
