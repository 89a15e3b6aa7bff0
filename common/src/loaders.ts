import DataLoader from 'dataloader';

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
