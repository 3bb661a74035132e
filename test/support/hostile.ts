import fc from 'fast-check';
import { getNamedType, GraphQLInputType, isEnumType, isInputObjectType, isListType, isNonNullType } from 'graphql';

/**
 * Hostile input values by GraphQL type, and the two ways to send them (variables as JSON, or
 * literals in the query), for the schema-driven bad-input suite. Values too deep for
 * JSON.stringify (or for a recursive printer) are kept as `Deep` markers and written out
 * by string repetition.
 */

/** `depth` levels of `{"a": …}` (or `[…]`) around `leaf`. */
export class Deep {
  constructor(
    readonly depth: number,
    readonly leaf: unknown,
    readonly kind: 'object' | 'list' = 'object',
  ) {}
}

/** In an argument or input field: leave it out altogether. */
export const OMIT = Symbol('omit');

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** JSON text, as a client puts variables in a request body. */
export function toJson(value: unknown): string {
  if (value instanceof Deep) {
    const [open, close] = value.kind === 'object' ? ['{"a":', '}'] : ['[', ']'];
    return open.repeat(value.depth) + toJson(value.leaf) + close.repeat(value.depth);
  }
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== OMIT)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`)
      .join(',')}}`;
  }
  // JSON.stringify escapes lone surrogates (\ud800), so they reach the server as sent.
  return JSON.stringify(value) ?? 'null';
}

/** A GraphQL literal; enum values are written bare when the slot is an enum. */
export function toLiteral(value: unknown, type: GraphQLInputType | null): string {
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (value instanceof Deep) {
    const [open, close] = value.kind === 'object' ? ['{a: ', '}'] : ['[', ']'];
    return open.repeat(value.depth) + toLiteral(value.leaf, null) + close.repeat(value.depth);
  }
  if (Array.isArray(value)) {
    const item = inner && isListType(inner) ? (inner.ofType as GraphQLInputType) : null;
    return `[${value.map((v) => toLiteral(v, item)).join(', ')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const fields = inner && isInputObjectType(inner) ? inner.getFields() : null;
    return `{${Object.entries(value)
      .filter(([, v]) => v !== OMIT)
      // A key that is not a GraphQL name cannot be written as a literal: the parse error is the answer.
      .map(([k, v]) => `${NAME.test(k) ? k : JSON.stringify(k)}: ${toLiteral(v, fields?.[k]?.type ?? null)}`)
      .join(', ')}}`;
  }
  if (typeof value === 'string' && inner && isEnumType(getNamedType(inner)) && !isListType(inner) && NAME.test(value)) return value;
  return JSON.stringify(value) ?? 'null';
}

/** A short description of a value for a failure report (never the whole 100 kB). */
export function describe(value: unknown): string {
  if (value === OMIT) return '(omitted)';
  if (value instanceof Deep) return `${value.kind} nested ${value.depth} deep around ${describe(value.leaf)}`;
  const text = toJson(value);
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} chars)` : text;
}

const uuid = fc.uuid();
const cursorOf = (iso: string, id: string) => Buffer.from(`${iso}|${id}`, 'utf8').toString('base64url');
const NOT_UUID_36 = ['z'.repeat(36), 'gggggggg-gggg-gggg-gggg-gggggggggggg', '------------------------------------', '00000000-0000-0000-0000-00000000000g'];

const STRINGS = [
  'a\u0000b',
  '\u0000',
  'a\ud800b',
  '\udc00',
  'ends with a lone high surrogate \ud83d',
  '',
  ' ',
  'x'.repeat(100_000),
  'é€😀 ✓ مرحبا',
  'a\r\nInjected: 1',
  '\u0001\u007f',
  ...NOT_UUID_36,
  "'; DROP TABLE webhook; --",
  cursorOf('-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'),
  cursorOf('+275760-09-13T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'),
  cursorOf('2026-01-01T00:00:00.000Z', 'z'.repeat(36)),
  cursorOf('2026-01-01T00:00:00.000Z', 'gggggggg-gggg-gggg-gggg-gggggggggggg'),
  cursorOf('not a date', '00000000-0000-4000-8000-000000000000'),
  cursorOf('2026-01-01T00:00:00.000Z', ''),
  cursorOf('2026-01-01T00:00:00.000Z|x', '00000000-0000-4000-8000-000000000000'),
  'not base64 at all!',
];

const DATES = [
  '+275760-09-13T00:00:00Z',
  '-271821-04-20T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '0000-01-01',
  '9999-12-31T23:59:59Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01T24:00:00Z',
  'now',
  '',
  '1970-01-01T00:00:00.000000001Z',
];

const INTS = [2147483648, -2147483649, 2 ** 53, -1, -2147483648, 0, 1.5, 1e308];

const JSONS: unknown[] = [
  { body: new Deep(10_000, 1) },
  { body: new Deep(10_000, 1, 'list') },
  { body: new Deep(33, 'x') },
  { body: new Deep(31, 'x') },
  new Deep(10_000, 'x'),
  { body: 'a\u0000' },
  { body: { 'k\u0000': 1 } },
  { body: ['ok', 'a\ud800'] },
  { 'body\u0000': 'x' },
  { ['__proto__']: { polluted: true } },
  { constructor: 'x', toString: 'y' },
  { body: 'x'.repeat(1_100_000) },
  { body: 1e308 },
  [1, 2],
  'just a string',
  42,
  { nope: 1 },
];

/** Values of the wrong shape for any slot. */
const WRONG = [null, OMIT, 'str', 12345, 1.5, true, [], {}, { unexpected: 1 }];

function leafArbitrary(named: string, enumValues: string[] | null, valid: () => unknown): fc.Arbitrary<unknown> {
  if (enumValues) return fc.constantFrom<unknown>('NOPE', enumValues[0].toLowerCase(), '', 5, `${enumValues[0]}\u0000`);
  switch (named) {
    case 'String':
    case 'ID':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<unknown>(...STRINGS) },
        { weight: 1, arbitrary: uuid },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
        { weight: 2, arbitrary: fc.tuple(fc.nat(), fc.constantFrom('\u0000', '\ud800', '\udfff')).map(([at, bad]) => inside(valid(), bad, at)) },
        {
          weight: 2,
          arbitrary: fc
            .tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\u0000', '\ud800', '\udfff', '\udbff'), fc.string({ maxLength: 10 }))
            .map(([a, b, c]) => a + b + c),
        },
      );
    case 'Int':
    case 'Float':
      return fc.oneof(fc.constantFrom<unknown>(...INTS), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'Boolean':
      return fc.constantFrom<unknown>('true', 0, 1);
    case 'DateTime':
      return fc.oneof(
        fc.constantFrom<unknown>(...DATES),
        fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
      );
    case 'JSON':
      return fc.constantFrom<unknown>(...JSONS);
    default:
      return fc.constantFrom<unknown>(...STRINGS);
  }
}

/** A valid value with `bad` inside it, so only `bad` can be the reason for a refusal. */
export function inside(valid: unknown, bad: string, at?: number): string {
  const text = String(valid);
  const i = at === undefined ? Math.floor(text.length / 2) : at % (text.length + 1);
  return text.slice(0, i) + bad + text.slice(i);
}

/** A thousand of a valid item: list caps, not the database, must refuse it. */
function manyOf(valid: () => unknown): unknown[] {
  return Array.from({ length: 1_000 }, () => (valid() as unknown[])[0]);
}

/**
 * The values every slot of a kind is always tried with (in the given way to send them), before
 * the random ones: the inputs that broke the server once must stay covered whatever the seed.
 */
export function coreExamples(type: GraphQLInputType, valid: () => unknown): Array<[unknown, 'variables' | 'literal']> {
  const inner = isNonNullType(type) ? type.ofType : type;
  const named = getNamedType(inner);
  if (isListType(inner)) return [[[null], 'variables'], [manyOf(valid), 'variables']];
  if (isInputObjectType(named)) return [[null, 'literal'], ['str', 'variables']];
  if (isEnumType(named)) return [['NOPE', 'literal']];
  switch (named.name) {
    case 'String':
    case 'ID':
      return [
        [inside(valid(), '\u0000'), 'literal'],
        [inside(valid(), '\ud800'), 'variables'],
        ['z'.repeat(36), 'variables'],
        [cursorOf('-271821-04-20T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'), 'variables'],
        [cursorOf('2026-01-01T00:00:00.000Z', 'a'.repeat(36)), 'literal'],
        ['x'.repeat(100_000), 'literal'],
      ];
    case 'DateTime':
      return [
        ['+275760-09-13T00:00:00Z', 'variables'],
        ['0000-01-01T00:00:00Z', 'literal'],
        ['-271821-04-20T00:00:00Z', 'variables'],
      ];
    case 'Int':
    case 'Float':
      return [[2147483648, 'variables'], [-1, 'literal']];
    case 'JSON':
      return [
        [{ body: new Deep(10_000, 1) }, 'variables'],
        [{ body: new Deep(10_000, 1) }, 'literal'],
        [{ body: 'a\u0000' }, 'literal'],
        [{ body: { 'k\u0000': 1 } }, 'variables'],
        [{ body: ['ok', 'a\ud800'] }, 'variables'],
        [{ body: new Deep(33, 'x') }, 'variables'],
        [{ body: 'x'.repeat(1_100_000) }, 'variables'],
      ];
    default:
      return [['true', 'variables']];
  }
}

/** Hostile values for a slot of `type`: wrong shapes, and the worst its own kind allows. */
export function hostileFor(type: GraphQLInputType, valid: () => unknown): fc.Arbitrary<unknown> {
  const inner = isNonNullType(type) ? type.ofType : type;
  const named = getNamedType(inner);
  const wrong = fc.constantFrom<unknown>(...WRONG);
  if (isListType(inner)) {
    return fc.oneof(
      wrong,
      fc.constantFrom<unknown>([null], []),
      // Ten thousand of a valid item: list caps, not the database, must refuse it.
      fc.constant(null).map(() => manyOf(valid)),
    );
  }
  if (isInputObjectType(named)) {
    return fc.oneof(wrong, fc.constant(null).map(() => ({ ...(valid() as object), unexpected: 1 })));
  }
  return fc.oneof({ weight: 1, arbitrary: wrong }, { weight: 4, arbitrary: leafArbitrary(named.name, isEnumType(named) ? named.getValues().map((v) => v.name) : null, valid) });
}
