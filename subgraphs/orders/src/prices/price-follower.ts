import { type Logger } from '@brokerage/service';
import { decodePriceMessage, type PriceQuote } from '@brokerage/price-fetcher-contract';
import type { KafkaMessage } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import type { StockPricesRepository } from '../db/stock-prices-repository';

/**
 * Keeps the latest price of every stock from the prices topic (the price fetcher's), so that a
 * buy is priced from the orders database with no call to another service. A run of quotes costs
 * one statement (only each stock's latest trade in it is stored); a cancelled trade is taken back
 * in its place in the run, so the stored price is always a trade that stands.
 */
export class PriceFollower {
  private readonly messages: Counter<'kind'>;

  constructor(
    private readonly prices: StockPricesRepository,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.messages = new Counter({
      name: 'orders_price_messages_total',
      help: 'Messages read from the prices topic, by kind (quote, cancellation, invalid)',
      labelNames: ['kind'],
      registers: [registry],
    });
  }

  async apply(_topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<void> {
    let run: PriceQuote[] = [];
    for (const message of messages) {
      let decoded;
      try {
        decoded = decodePriceMessage(message.value);
      } catch (error) {
        this.messages.inc({ kind: 'invalid' });
        this.logger.error({ err: error, partition, offset: message.offset }, 'invalid price message skipped');
        continue;
      }
      if (decoded.quote) {
        run.push(decoded.quote);
        continue;
      }
      await this.prices.record(run);
      this.messages.inc({ kind: 'quote' }, run.length);
      run = [];
      await this.prices.takeBack(decoded.cancellation);
      this.messages.inc({ kind: 'cancellation' });
    }
    await this.prices.record(run);
    this.messages.inc({ kind: 'quote' }, run.length);
  }
}
