import { DeliveryLoop, encodeJson, type Logger, type StockListingEvent } from '@brokerage/common';
import type { Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

/** How long a round holds its rows: far longer than a publish takes, even to a struggling broker. */
const LEASE_SECONDS = 30;
const BATCH_SIZE = 100;

export interface OutboxRelayOptions {
  dataSource: DataSource;
  producer: Producer;
  topic: string;
  pollMs: number;
  logger: Logger;
  registry: Registry;
}

/**
 * Delivers the stocks outbox (announcements of stocks listed and delisted) to the listings topic,
 * oldest first, keyed by stock id, as the orders service's relay does: a round leases the oldest
 * rows (SKIP LOCKED, so replicas share the work), publishes them with acks=all and deletes them.
 * A relay that dies in between leaves its rows to be delivered again when the lease runs out;
 * followers absorb a repeat (an announcement names the list's version it made). A failed round
 * gives its rows back and is retried from the oldest, so a stock's announcements keep their order.
 */
export class OutboxRelay {
  private readonly loop: DeliveryLoop;
  private readonly delivered: Counter;

  constructor(private readonly options: OutboxRelayOptions) {
    this.loop = new DeliveryLoop({
      round: () => this.deliverBatch(),
      batchSize: BATCH_SIZE,
      pollMs: options.pollMs,
      logger: options.logger,
    });
    this.delivered = new Counter({
      name: 'outbox_delivered_total',
      help: 'Stock listing announcements delivered to Kafka',
      registers: [options.registry],
    });
    new Gauge({
      name: 'outbox_backlog',
      help: 'Stock listing announcements not delivered yet',
      registers: [options.registry],
      collect: async function (this: Gauge) {
        const [row] = await options.dataSource.query<Array<{ count: string }>>('SELECT count(*) FROM outbox');
        this.set(Number(row?.count ?? 0));
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Something was written to the outbox: deliver it now rather than at the next poll. */
  notify(): void {
    this.loop.notify();
  }

  /** Stops polling and waits for the round in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async deliverBatch(): Promise<number> {
    const { dataSource, producer, topic } = this.options;
    // An UPDATE answers [rows, count].
    const [leased] = await dataSource.query<
      [Array<{ id: string; stock_id: string; event: StockListingEvent }>]
    >(
      `UPDATE outbox SET leased_until = now() + make_interval(secs => $2)
        WHERE id IN (SELECT id FROM outbox WHERE leased_until IS NULL OR leased_until < now()
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, stock_id, event`,
      [BATCH_SIZE, LEASE_SECONDS],
    );
    if (leased.length === 0) return 0;
    const rows = leased.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    const ids = rows.map(({ id }) => id);
    try {
      await producer.send({
        topic,
        acks: -1,
        messages: rows.map(({ stock_id, event }) => ({ key: stock_id, value: encodeJson(event) })),
      });
    } catch (error) {
      await dataSource.query(
        'UPDATE outbox SET leased_until = NULL, attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])',
        [ids, error instanceof Error ? error.message.slice(0, 500) : String(error)],
      );
      throw error;
    }
    await dataSource.query('DELETE FROM outbox WHERE id = ANY($1::bigint[])', [ids]);
    this.delivered.inc(rows.length);
    return rows.length;
  }
}
