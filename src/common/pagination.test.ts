import { AppError, ErrorCode } from './app-error';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, MAX_PAGE_SIZE, pageSize, toPage } from './pagination';

const ID = '0b9f3c1e-4a5d-4e6f-8a7b-9c0d1e2f3a4b';

function badInputOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.BAD_USER_INPUT);
    return error as AppError;
  }
  throw new Error('expected BAD_USER_INPUT, nothing was thrown');
}

describe('cursor', () => {
  test('round trip keeps created_at to the millisecond and the id', () => {
    const createdAt = new Date('2026-03-04T05:06:07.089Z');
    const cursor = encodeCursor(createdAt, ID);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/); // base64url: safe in a URL without escaping
    const decoded = decodeCursor('after', cursor)!;
    expect(decoded.createdAt.getTime()).toBe(createdAt.getTime());
    expect(decoded.id).toBe(ID);
  });

  test('the latest date JavaScript has still round-trips (PostgreSQL stores it)', () => {
    const far = new Date(8.64e15);
    expect(decodeCursor('after', encodeCursor(far, ID))).toEqual({ createdAt: far, id: ID });
  });

  test.each([null, undefined, ''])('%p means "from the start"', (value) => {
    expect(decodeCursor('after', value)).toBeUndefined();
  });

  test.each([
    ['random text', 'garbage!!'],
    ['base64 without a separator', Buffer.from('hello').toString('base64url')],
    ['bad date', Buffer.from(`not-a-date|${ID}`).toString('base64url')],
    ['bad id', Buffer.from('2026-03-04T05:06:07.089Z|not-an-id').toString('base64url')],
    ['missing id', Buffer.from('2026-03-04T05:06:07.089Z|').toString('base64url')],
    ['36 hex characters that are not a UUID', Buffer.from(`2026-03-04T05:06:07.089Z|${'a'.repeat(36)}`).toString('base64url')],
    ['36 dashes', Buffer.from(`2026-03-04T05:06:07.089Z|${'-'.repeat(36)}`).toString('base64url')],
    ['a date before PostgreSQL\'s range', Buffer.from(`-271821-04-20T00:00:00.000Z|${ID}`).toString('base64url')],
    ['a date that does not round-trip', Buffer.from(`2026-03-04T05:06:07Z|${ID}`).toString('base64url')],
    ['a date JavaScript reads leniently', Buffer.from(`March 4, 2026|${ID}`).toString('base64url')],
    ['a third part', Buffer.from(`2026-03-04T05:06:07.089Z|${ID}|x`).toString('base64url')],
    ['trailing junk the decoder ignores', `${encodeCursor(new Date('2026-03-04T05:06:07.089Z'), ID)}!!`],
    ['padding', `${encodeCursor(new Date('2026-03-04T05:06:07.089Z'), ID)}==`],
  ])('garbage cursor (%s) is BAD_USER_INPUT naming the argument', (_label, cursor) => {
    const error = badInputOf(() => decodeCursor('after', cursor));
    expect(error.field).toBe('after');
    expect(error.message).toBe('after: is not a cursor returned by this API');
  });
});

describe('pageSize', () => {
  test.each([
    [null, DEFAULT_PAGE_SIZE],
    [undefined, DEFAULT_PAGE_SIZE],
    [0, 0],
    [1, 1],
    [10, 10],
    [MAX_PAGE_SIZE, MAX_PAGE_SIZE],
    [MAX_PAGE_SIZE + 1, MAX_PAGE_SIZE],
    [1_000_000, MAX_PAGE_SIZE],
  ])('first=%p → %p', (first, expected) => {
    expect(pageSize(first)).toBe(expected);
  });

  test('the cap is 100 as the contract says', () => {
    expect(MAX_PAGE_SIZE).toBe(100);
  });

  test.each([-1, 1.5, Number.NaN])('first=%p is BAD_USER_INPUT naming `first`', (first) => {
    const error = badInputOf(() => pageSize(first));
    expect(error.field).toBe('first');
    expect(error.message).toMatch(/^first: must be a non-negative integer/);
  });
});

describe('toPage', () => {
  const rows = Array.from({ length: 4 }, (_, i) => ({
    id: `0b9f3c1e-4a5d-4e6f-8a7b-9c0d1e2f3a4${i}`,
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 100 - i)),
  }));

  test('size+1 rows: hasNextPage, the extra row is not returned, endCursor is the last edge', () => {
    const page = toPage(rows, 3);
    expect(page.edges.map((e) => e.node)).toEqual(rows.slice(0, 3));
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.pageInfo.endCursor).toBe(page.edges[2].cursor);
    expect(decodeCursor('after', page.pageInfo.endCursor)).toEqual({ createdAt: rows[2].createdAt, id: rows[2].id });
  });

  test('exactly size rows: no next page', () => {
    const page = toPage(rows.slice(0, 3), 3);
    expect(page.edges).toHaveLength(3);
    expect(page.pageInfo.hasNextPage).toBe(false);
  });

  test('fewer rows than size: no next page', () => {
    const page = toPage(rows.slice(0, 2), 3);
    expect(page.edges).toHaveLength(2);
    expect(page.pageInfo.hasNextPage).toBe(false);
  });

  test('no rows: no edges, no endCursor', () => {
    expect(toPage([], 3)).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  test('every edge cursor decodes to its own node', () => {
    for (const edge of toPage(rows, 10).edges) {
      expect(decodeCursor('after', edge.cursor)).toEqual({ createdAt: edge.node.createdAt, id: edge.node.id });
    }
  });
});
