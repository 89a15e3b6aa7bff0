import { badUserInput, isRowId, MAX_PAGE_SIZE } from '@brokerage/service';

/**
 * GraphQL Cursor Connections over a newest-first list ordered by (created_at DESC, id DESC).
 * A cursor is the row's sort key, opaque to clients: base64url of `<list>|<created_at>|<id>`, the
 * timestamp in UTC with PostgreSQL's full microsecond precision. Reading a page is a keyset
 * query from that key, so its cost does not depend on how deep the page is.
 */

/** What the connection arguments ask for, validated. */
export interface ConnectionPage {
  /** forward: `first` rows older than `after`; backward: `last` rows newer than `before`. */
  direction: 'forward' | 'backward';
  limit: number;
  /** The sort key to start from (exclusive), or none for the newest (or oldest) end. */
  cursor?: SortKey;
}

/** A row's place in the newest-first order. */
export interface SortKey {
  /** UTC, microseconds: `2026-11-21T08:30:00.123456Z`. */
  createdAt: string;
  id: string;
}

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface Connection<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
}

export const DEFAULT_CONNECTION_SIZE = 10;

/** The SQL expression that renders `created_at` the way a cursor holds it (UTC, microseconds). */
export const CURSOR_CREATED_AT_SQL = (column = 'created_at') =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const CREATED_AT_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z$/;

export function encodeCursor(list: string, key: SortKey): string {
  return Buffer.from(`${list}|${key.createdAt}|${key.id}`, 'utf8').toString('base64url');
}

/**
 * The sort key in a cursor of `list`; anything else (not base64url, another list's cursor, a
 * timestamp that is no real instant, an id that is no row id) is BAD_USER_INPUT naming `field`.
 */
export function decodeCursor(list: string, cursor: string, field: string): SortKey {
  const invalid = () => badUserInput(`${field} is not a cursor of this list`, field);
  if (cursor.length === 0 || cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (parts.length !== 3 || parts[0] !== list) throw invalid();
  const [, createdAt = '', id = ''] = parts;
  if (!isRowId(id) || !isInstant(createdAt)) throw invalid();
  return { createdAt, id };
}

function isInstant(value: string): boolean {
  const match = CREATED_AT_PATTERN.exec(value);
  if (!match) return false;
  const millis = `${value.slice(0, 23)}Z`;
  const parsed = new Date(millis);
  // A date JavaScript rolls over (Feb 30 → Mar 2) is not the one written: refuse it.
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString() === millis && match[1] !== '0000';
}

/**
 * Validates `first`/`after` or `last`/`before` (not both directions at once): sizes 1 to 100,
 * `first: 10` when neither size is given.
 */
export function parseConnectionArgs(
  list: string,
  { first, after, last, before }: ConnectionArgs,
): ConnectionPage {
  const given = (value: unknown) => value !== undefined && value !== null;
  if ((given(first) || given(after)) && (given(last) || given(before))) {
    throw badUserInput('give first/after or last/before, not both', given(last) ? 'last' : 'before');
  }
  const size = (value: number | null | undefined, field: string) => {
    if (!given(value)) return DEFAULT_CONNECTION_SIZE;
    if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE_SIZE) {
      throw badUserInput(`${field} must be between 1 and ${MAX_PAGE_SIZE}`, field);
    }
    return value;
  };
  if (given(last) || given(before)) {
    return {
      direction: 'backward',
      limit: size(last, 'last'),
      ...(given(before) ? { cursor: decodeCursor(list, before, 'before') } : {}),
    };
  }
  return {
    direction: 'forward',
    limit: size(first, 'first'),
    ...(given(after) ? { cursor: decodeCursor(list, after, 'after') } : {}),
  };
}

/**
 * The keyset part of a page's SQL: the condition past the cursor (or TRUE), the ORDER BY and the
 * LIMIT (one row more than the page, to tell whether there is a next one), with the cursor's
 * values as parameters numbered from `firstParam`. `prefix` qualifies the columns (`o.`).
 */
export function keysetSql(
  page: ConnectionPage,
  firstParam: number,
  prefix = '',
): { condition: string; orderBy: string; limit: number; params: unknown[] } {
  const forward = page.direction === 'forward';
  const orderBy = forward
    ? `${prefix}created_at DESC, ${prefix}id DESC`
    : `${prefix}created_at ASC, ${prefix}id ASC`;
  if (!page.cursor) return { condition: 'TRUE', orderBy, limit: page.limit + 1, params: [] };
  const condition = `(${prefix}created_at, ${prefix}id) ${forward ? '<' : '>'} ($${firstParam}::timestamptz, $${firstParam + 1}::bigint)`;
  return { condition, orderBy, limit: page.limit + 1, params: [page.cursor.createdAt, page.cursor.id] };
}

/**
 * The connection from the rows a `keysetSql` query returned (in its order, up to limit + 1, each
 * with its sort key): newest first whichever way it was read. When reading forward from a cursor,
 * the row at the cursor precedes the page, so `hasPreviousPage` is true; reading backward from
 * one, likewise `hasNextPage`.
 */
export function toConnection<T>(
  list: string,
  page: ConnectionPage,
  rows: ReadonlyArray<{ key: SortKey; node: T }>,
): Connection<T> {
  const more = rows.length > page.limit;
  const taken = rows.slice(0, page.limit);
  if (page.direction === 'backward') taken.reverse();
  const edges = taken.map(({ key, node }) => ({ cursor: encodeCursor(list, key), node }));
  const forward = page.direction === 'forward';
  return {
    edges,
    pageInfo: {
      hasNextPage: forward ? more : page.cursor !== undefined,
      hasPreviousPage: forward ? page.cursor !== undefined : more,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

/** A connection without rows (a list of an id no row can have). */
export function emptyConnection<T>(): Connection<T> {
  return {
    edges: [],
    pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  };
}

/** The DataLoader key part that groups requests for the same page shape. */
export function connectionShape(page: ConnectionPage): string {
  return `${page.direction}:${page.limit}:${page.cursor ? `${page.cursor.createdAt}|${page.cursor.id}` : ''}`;
}
