import { Kind, parseValue, ValueNode, valueFromAST } from 'graphql';
import { JSONResolver } from 'graphql-scalars';
import { DateTimeScalar, jsonFromLiteral, JSONScalar } from './scalars';

describe('JSON literals', () => {
  test('parse to the same values as graphql-scalars does', () => {
    const literal = '{ b: 1, a: [1.5, "x", true, null, { c: $v }], d: { e: [] }, b: 2 }';
    const ours = jsonFromLiteral(parseValue(literal), { v: 'var' });
    const theirs = JSONResolver.parseLiteral(parseValue(literal), { v: 'var' });
    expect(JSON.stringify(ours)).toBe(JSON.stringify(theirs));
    expect(Object.keys(ours as object)).toEqual(['b', 'a', 'd']);
    expect((ours as { b: number }).b).toBe(2);
    expect(Object.getPrototypeOf(ours)).toBeNull();
    expect(valueFromAST(parseValue('"s"'), JSONScalar)).toBe('s');
  });

  test('parse a literal nested 100,000 deep without overflowing the stack', () => {
    // Built by hand: graphql-js's own parser would overflow first.
    let node: ValueNode = parseValue('1');
    for (let i = 0; i < 100_000; i++) {
      node = i % 2
        ? { kind: Kind.OBJECT, fields: [{ kind: Kind.OBJECT_FIELD, name: { kind: Kind.NAME, value: 'a' }, value: node }] }
        : { kind: Kind.LIST, values: [node] };
    }
    let value = jsonFromLiteral(node) as unknown;
    let depth = 0;
    while (typeof value === 'object' && value !== null) {
      value = Array.isArray(value) ? value[0] : (value as { a: unknown }).a;
      depth += 1;
    }
    expect([depth, value]).toEqual([100_000, 1]);
  });
});

describe('DateTime', () => {
  test('refuses a date PostgreSQL cannot store', () => {
    expect(() => DateTimeScalar.parseValue(new Date(Date.UTC(-271821, 3, 20)))).toThrow('DateTime must be between 4713 BC and 275760 AD');
    expect(DateTimeScalar.parseValue(new Date(Date.UTC(-4712, 0, 1))).toISOString()).toBe('-004712-01-01T00:00:00.000Z');
    expect(DateTimeScalar.parseValue('0000-01-01T00:00:00Z').toISOString()).toBe('0000-01-01T00:00:00.000Z');
    expect(() => DateTimeScalar.parseValue('+275760-09-13T00:00:00Z')).toThrow();
  });
});
