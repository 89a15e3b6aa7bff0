import type { Redis } from '@brokerage/redis';

/**
 * Where each stock's fetching stands, kept in Redis (with AOF in production) so that a fetcher
 * that was down knows exactly what to backfill. Each source has its own form (JSON); written only
 * after Kafka acknowledged what it covers.
 */
export class CheckpointStore {
  constructor(private readonly redis: Redis) {}

  async get(stockId: string): Promise<unknown> {
    const raw = await this.redis.get(`checkpoint:${stockId}`);
    return raw ? (JSON.parse(raw) as unknown) : undefined;
  }

  async set(stockId: string, checkpoint: unknown): Promise<void> {
    await this.redis.set(`checkpoint:${stockId}`, JSON.stringify(checkpoint));
  }
}
