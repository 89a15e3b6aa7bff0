import { OutboxRelayBase } from '@brokerage/postgres';
import { encodeJson, type Logger } from '@brokerage/service';
import { type StockListingEvent } from '@brokerage/stocks-contract';
import type { Producer } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

const BATCH_SIZE = 100;

export interface OutboxRelayOptions {
  dataSource: DataSource;
  producer: Producer;
  topic: string;
  pollMs: number;
  logger: Logger;
  registry: Registry;
}

interface OutboxRow {
  id: string;
  stock_id: string;
  event: StockListingEvent;
}

/**
 * Delivers the stocks outbox (announcements of stocks listed and delisted) to the listings topic
 * with acks=all, keyed by stock id. Followers absorb a repeat (an announcement names the list's
 * version it made). How rows are leased, retried in order and deleted is OutboxRelayBase's.
 */
export class OutboxRelay extends OutboxRelayBase<OutboxRow> {
  private readonly deliveredCount: Counter;

  constructor(private readonly options: OutboxRelayOptions) {
    super({
      ...options,
      batchSize: BATCH_SIZE,
      backlogHelp: 'Stock listing announcements not delivered yet',
      lease: { name: 'stocks.outbox', returning: 'id, stock_id, event' },
    });
    this.deliveredCount = new Counter({
      name: 'outbox_delivered_total',
      help: 'Stock listing announcements delivered to Kafka',
      registers: [options.registry],
    });
  }

  protected async deliver(rows: OutboxRow[]): Promise<void> {
    await this.options.producer.send({
      topic: this.options.topic,
      acks: -1,
      messages: rows.map(({ stock_id, event }) => ({ key: stock_id, value: encodeJson(event) })),
    });
  }

  protected delivered(rows: OutboxRow[]): void {
    this.deliveredCount.inc(rows.length);
  }
}
