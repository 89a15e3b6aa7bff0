import type { Redis } from '@brokerage/common';

/** Everything of `date` before `until` (hhmmss) has been published and acknowledged. */
export interface Checkpoint {
  date: string;
  until: string;
}

/**
 * The last minute published per stock, kept in Redis (with AOF in production) so that a fetcher
 * that was down knows exactly which minutes to backfill. Written only after Kafka acknowledged.
 */
export class CheckpointStore {
  constructor(private readonly redis: Redis) {}

  async get(stockId: string): Promise<Checkpoint | undefined> {
    const raw = await this.redis.get(`checkpoint:${stockId}`);
    return raw ? (JSON.parse(raw) as Checkpoint) : undefined;
  }

  async set(stockId: string, checkpoint: Checkpoint): Promise<void> {
    await this.redis.set(`checkpoint:${stockId}`, JSON.stringify(checkpoint));
  }
}
