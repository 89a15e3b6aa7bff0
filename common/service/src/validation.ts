import { badUserInput } from './errors';

export const MAX_PAGE_SIZE = 100;

export interface Page {
  offset: number;
  limit: number;
}

/** Turns the public `pageNum` (from 1) and `pageSize` (1..100) into an offset and limit. */
export function parsePage(pageNum: number, pageSize: number): Page {
  if (!Number.isInteger(pageNum) || pageNum < 1) throw badUserInput('pageNum must be 1 or more', 'pageNum');
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw badUserInput(`pageSize must be between 1 and ${MAX_PAGE_SIZE}`, 'pageSize');
  }
  return { offset: (pageNum - 1) * pageSize, limit: pageSize };
}

// Row ids are PostgreSQL bigint identities: decimal digits without a leading zero, at most 2^63-1.
const ID_PATTERN = /^[1-9][0-9]{0,18}$/;
const MAX_BIGINT = 9223372036854775807n;

/** Whether a string is an id this platform could have issued; ids stay strings end to end. */
export function isRowId(value: string): boolean {
  return ID_PATTERN.test(value) && BigInt(value) <= MAX_BIGINT;
}

/** Rejects a malformed id with BAD_USER_INPUT; returns it unchanged (as a string) otherwise. */
export function parseRowId(value: string, field: string): string {
  if (!isRowId(value)) throw badUserInput(`${field} "${truncate(value, 40)}" is not a valid id`, field);
  return value;
}

export function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}...`;
}
