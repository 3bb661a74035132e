import { nestsDeeperThan } from './json';

function nested(depth: number, kind: 'object' | 'list' = 'object'): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = kind === 'object' ? { a: value } : [value];
  return value;
}

describe('nestsDeeperThan', () => {
  test('counts objects and arrays, the value itself as level 1', () => {
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({}, 0)).toBe(true);
    expect(nestsDeeperThan(nested(32), 32)).toBe(false);
    expect(nestsDeeperThan(nested(33), 32)).toBe(true);
    expect(nestsDeeperThan(nested(33, 'list'), 32)).toBe(true);
    expect(nestsDeeperThan({ wide: Array.from({ length: 1000 }, () => ({ x: 1 })), deep: nested(30) }, 32)).toBe(false);
    expect(nestsDeeperThan({ ok: 1, later: [{ b: nested(31) }] }, 32)).toBe(true);
  });

  test('measures a value nested 200,000 deep without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(200_000), 32)).toBe(true);
    expect(nestsDeeperThan(nested(200_000, 'list'), 200_000)).toBe(false);
  });
});
