import { encodePriceQuote, inSpan, minuteOf, SpanKind, traceHeaders, type Logger } from '@brokerage/common';
import type { Producer } from 'kafkajs';
import type { CheckpointStore } from './checkpoints';
import type { StockRef } from './config';
import type { PriceSource } from './sources/price-source';

export interface CycleReport {
  published: number;
  failedStocks: string[];
}

/**
 * One fetch cycle publishes, per stock, every trade of the minutes that have ended since its
 * checkpoint: normally the last minute, after downtime every minute missed (the backfill).
 * The checkpoint moves only after Kafka acknowledged the trades (acks=all), so a crash anywhere
 * means those minutes are published again, which the ingestor's idempotent writes absorb.
 */
export class PriceFetcher {
  constructor(
    private readonly source: PriceSource,
    private readonly stocks: StockRef[],
    private readonly checkpoints: CheckpointStore,
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  async runCycle(): Promise<CycleReport> {
    const now = await this.source.now();
    // Trades before the start of the current minute are final; the current minute is still open.
    const until = minuteOf(now.time);
    const report: CycleReport = { published: 0, failedStocks: [] };
    for (const stock of this.stocks) {
      const checkpoint = await this.checkpoints.get(stock.id);
      const from = checkpoint?.date === now.date ? checkpoint.until : undefined;
      if (from !== undefined && from >= until) continue;
      let trades;
      try {
        trades = await this.source.trades(stock, now.date, from, until);
      } catch (error) {
        // A bad or missing answer is skipped, never published; the next cycle asks again.
        this.logger.error(
          { err: error, stock: stock.symbol, source: this.source.name },
          'could not fetch prices',
        );
        report.failedStocks.push(stock.symbol);
        continue;
      }
      if (trades.length > 0) {
        await inSpan(
          'price-fetcher',
          `publish ${this.topic}`,
          { kind: SpanKind.PRODUCER, attributes: { stock: stock.symbol, trades: trades.length } },
          async () => {
            // Empty unless tracing is on: the ingestor's span links back to this one.
            const headers = traceHeaders();
            await this.producer.send({
              topic: this.topic,
              acks: -1,
              messages: trades.map((quote) => ({
                key: quote.stockId,
                value: encodePriceQuote(quote),
                headers,
              })),
            });
          },
        );
      }
      await this.checkpoints.set(stock.id, { date: now.date, until });
      report.published += trades.length;
      if (from === undefined || trades.length > 0) {
        this.logger.debug(
          { stock: stock.symbol, date: now.date, from, until, trades: trades.length },
          'published',
        );
      }
    }
    return report;
  }
}
