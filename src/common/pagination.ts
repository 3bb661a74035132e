import { badInput, isUuid } from './app-error';
import { isStorableTimestamp } from './timestamps';

/**
 * Keyset pagination over (created_at DESC, id DESC). The cursor carries both values, so a deep
 * page costs an index seek, not an OFFSET scan. created_at columns that are paged are stored
 * with millisecond precision, so a JavaScript Date round-trips the key exactly.
 */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface Cursor {
  createdAt: Date;
  id: string;
}

export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`, 'utf8').toString('base64url');
}

/**
 * Only what encodeCursor writes is accepted: a UUID and a date that PostgreSQL can store and
 * that round-trips exactly, encoded exactly as encodeCursor would. Anything else would reach
 * the query and fail there, as an internal error instead of bad input.
 */
export function decodeCursor(field: string, cursor: string | null | undefined): Cursor | undefined {
  if (cursor == null || cursor === '') return undefined;
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const [iso, id] = parts;
  const createdAt = new Date(iso ?? '');
  if (
    parts.length !== 2 ||
    !isUuid(id) ||
    !isStorableTimestamp(createdAt) ||
    createdAt.toISOString() !== iso ||
    encodeCursor(createdAt, id) !== cursor
  ) {
    throw badInput(field, 'is not a cursor returned by this API');
  }
  return { createdAt, id: id.toLowerCase() };
}

/** `first` is clamped to MAX_PAGE_SIZE as the contract says; negative values are an error. */
export function pageSize(first: number | null | undefined): number {
  if (first == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0) throw badInput('first', 'must be a non-negative integer');
  return Math.min(first, MAX_PAGE_SIZE);
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** `rows` was fetched with limit `size + 1`: the extra row only says there is a next page. */
export function toPage<T extends { createdAt: Date; id: string }>(rows: T[], size: number): Page<T> {
  const nodes = rows.slice(0, size);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node.createdAt, node.id), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.length > 0 ? edges[edges.length - 1].cursor : null },
  };
}
