import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { DeliveryLoop, type Logger } from '@brokerage/service';
import { queryPrepared, type PreparedStatement } from './postgres';

/** How long a round holds its rows: far longer than a publish takes, even to a struggling broker. */
const LEASE_SECONDS = 30;

/** Which rows a round takes and what it reads with them (columns of `outbox`, or of a joined table). */
export interface OutboxLease {
  /** Names the service's prepared statements (`<name>-lease`, `<name>-delete`). */
  name: string;
  /** The RETURNING list; `outbox.id` must be among it, as `id`. */
  returning: string;
  /** A table joined to each row, e.g. `{ from: 'orders o', on: 'o.id = outbox.order_id' }`. */
  join?: { from: string; on: string };
}

export interface OutboxRelayBaseOptions {
  dataSource: DataSource;
  pollMs: number;
  logger: Logger;
  registry: Registry;
  batchSize: number;
  lease: OutboxLease;
  /** The help text of the `outbox_backlog` gauge: what the rows announce. */
  backlogHelp: string;
}

/**
 * The delivery of a transactional outbox table (`outbox`: id, leased_until, attempts, last_error),
 * oldest first: a round leases the oldest rows (SKIP LOCKED, so replicas share the work), delivers
 * them and deletes them: two statements and no transaction held open across the publish. A relay
 * that dies in between leaves its rows to be delivered again when the lease runs out, so every
 * receiver must absorb a repeat. A failed round gives its rows back at once and is retried from
 * the oldest, so the messages of one key keep their order. When rounds run is DeliveryLoop's; what
 * a row becomes, and where it goes, is the subclass's `deliver`.
 */
export abstract class OutboxRelayBase<Row extends { id: string }> {
  private readonly loop: DeliveryLoop;
  private readonly leaseStatement: PreparedStatement;
  private readonly deleteStatement: PreparedStatement;

  constructor(protected readonly base: OutboxRelayBaseOptions) {
    const { lease, dataSource } = base;
    this.leaseStatement = {
      name: `${lease.name}-lease`,
      text: `UPDATE outbox SET leased_until = now() + make_interval(secs => $2)
             ${lease.join ? `FROM ${lease.join.from} WHERE ${lease.join.on} AND` : 'WHERE'}
             outbox.id IN (SELECT id FROM outbox WHERE leased_until IS NULL OR leased_until < now()
                            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
             RETURNING ${lease.returning}`,
    };
    this.deleteStatement = {
      name: `${lease.name}-delete`,
      text: 'DELETE FROM outbox WHERE id = ANY($1::bigint[])',
    };
    this.loop = new DeliveryLoop({
      round: () => this.deliverBatch(),
      batchSize: base.batchSize,
      pollMs: base.pollMs,
      logger: base.logger,
    });
    new Gauge({
      name: 'outbox_backlog',
      help: base.backlogHelp,
      registers: [base.registry],
      collect: async function (this: Gauge) {
        const [row] = await dataSource.query<Array<{ count: string }>>('SELECT count(*) FROM outbox');
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

  /** Publishes the rows (oldest first); throws if any of them may not have arrived. */
  protected abstract deliver(rows: Row[]): Promise<void>;

  /** The rows arrived and were deleted from the outbox. */
  protected abstract delivered(rows: Row[]): void;

  /** The rows failed and were given back, to be retried. */
  protected failed(_rows: Row[]): void {}

  /** Delivers one batch; returns how many rows it delivered. */
  private async deliverBatch(): Promise<number> {
    const { dataSource, batchSize, logger } = this.base;
    const leased = await queryPrepared<Row>(dataSource, this.leaseStatement, [batchSize, LEASE_SECONDS]);
    if (leased.length === 0) return 0;
    const rows = leased.sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
    const ids = rows.map(({ id }) => id);
    try {
      await this.deliver(rows);
    } catch (error) {
      this.failed(rows);
      await dataSource.query(
        'UPDATE outbox SET leased_until = NULL, attempts = attempts + 1, last_error = $2 WHERE id = ANY($1::bigint[])',
        [ids, error instanceof Error ? error.message.slice(0, 500) : String(error)],
      );
      logger.warn({ err: error, failed: rows.length }, 'outbox delivery failed; will retry');
      return 0;
    }
    await queryPrepared(dataSource, this.deleteStatement, [ids]);
    this.delivered(rows);
    return rows.length;
  }
}
