import DataLoader from 'dataloader';
import { connectionShape, type Connection, type ConnectionPage } from './connections';
import type { Page } from '@brokerage/service';

/**
 * A per-request DataLoader over a batch lookup by id: every `load(id)` of one tick becomes one
 * `findByIds` call (one SQL query), and each id gets its row or null.
 */
export function loaderById<T extends { id: string }>(
  findByIds: (ids: readonly string[]) => Promise<T[]>,
): DataLoader<string, T | null> {
  return new DataLoader(async (ids) => {
    const found = new Map((await findByIds(ids)).map((row) => [row.id, row]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/**
 * A per-request DataLoader over one page of each owner's rows (e.g. `User.listings` for every user
 * of a response): every `load({ ownerId, offset, limit })` of one tick becomes one
 * `pagesByOwner` call (one SQL query) per page shape, normally just one.
 */
export function pagesByOwnerLoader<T>(
  pagesByOwner: (ownerIds: string[], page: Page) => Promise<Map<string, T[]>>,
): DataLoader<{ ownerId: string } & Page, T[], string> {
  const keyOf = ({ ownerId, offset, limit }: { ownerId: string } & Page) => `${ownerId}:${offset}:${limit}`;
  return new DataLoader(
    async (keys) => {
      const byShape = new Map<string, { page: Page; ownerIds: string[] }>();
      for (const { ownerId, offset, limit } of keys) {
        const shape = `${offset}:${limit}`;
        const group = byShape.get(shape) ?? { page: { offset, limit }, ownerIds: [] };
        group.ownerIds.push(ownerId);
        byShape.set(shape, group);
      }
      const results = new Map<string, T[]>();
      await Promise.all(
        [...byShape.values()].map(async ({ page, ownerIds }) => {
          for (const [ownerId, rows] of await pagesByOwner(ownerIds, page)) {
            results.set(keyOf({ ownerId, ...page }), rows);
          }
        }),
      );
      return keys.map((key) => results.get(keyOf(key)) ?? []);
    },
    { cacheKeyFn: keyOf },
  );
}

/**
 * A per-request DataLoader over one connection page of each owner's rows (e.g.
 * `User.ordersConnection` for every user of a response): every `load({ ownerId, page })` of one
 * tick becomes one `pagesByOwner` call (one SQL query) per page shape, normally just one.
 */
export function connectionsByOwnerLoader<T>(
  pagesByOwner: (ownerIds: string[], page: ConnectionPage) => Promise<Map<string, Connection<T>>>,
): DataLoader<{ ownerId: string; page: ConnectionPage }, Connection<T>, string> {
  const keyOf = ({ ownerId, page }: { ownerId: string; page: ConnectionPage }) =>
    `${ownerId}:${connectionShape(page)}`;
  return new DataLoader(
    async (keys) => {
      const byShape = new Map<string, { page: ConnectionPage; ownerIds: string[] }>();
      for (const { ownerId, page } of keys) {
        const shape = connectionShape(page);
        const group = byShape.get(shape) ?? { page, ownerIds: [] };
        group.ownerIds.push(ownerId);
        byShape.set(shape, group);
      }
      const results = new Map<string, Connection<T>>();
      await Promise.all(
        [...byShape.values()].map(async ({ page, ownerIds }) => {
          for (const [ownerId, connection] of await pagesByOwner(ownerIds, page)) {
            results.set(keyOf({ ownerId, page }), connection);
          }
        }),
      );
      return keys.map((key) => results.get(keyOf(key)) ?? new Error(`no page for owner ${key.ownerId}`));
    },
    { cacheKeyFn: keyOf },
  );
}
