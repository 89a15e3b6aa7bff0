import { inSpan, SpanKind, traceHeaders, type Logger } from '@brokerage/service';
import {
  encodePriceQuote,
  encodeTradeCancellation,
  PRICE_MESSAGE_HEADER,
  TRADE_CANCELLED,
} from '@brokerage/price-fetcher-contract';
import type { Message, Producer } from 'kafkajs';
import { isDeepStrictEqual } from 'node:util';
import type { CheckpointStore } from './checkpoints';
import type { StockRef } from './config';
import type { PriceMessage, PriceSource, SourceFetch } from './sources/price-source';

export interface CycleReport {
  published: number;
  cancellations: number;
  failedStocks: string[];
  /** Extra fetches of stocks whose checkpoint was behind by a day or more (a fetcher back from downtime). */
  catchUpSteps: number;
}

/**
 * One fetch cycle publishes, per stock, what the source has since the stock's checkpoint (trades,
 * and cancellations of trades published earlier), then moves the checkpoint. The checkpoint moves
 * only after Kafka acknowledged the messages (acks=all), so a crash anywhere means they are
 * published again, which the ingestor's idempotent writes absorb. A stock whose checkpoint is days
 * behind (the fetcher was down, across midnight or longer) is caught up in the same cycle, a day per
 * fetch and a checkpoint per day, oldest first, so the days missed are published in order before
 * the live minutes, and a crash during the catch-up resumes at the day it was in.
 */
export class PriceFetcher {
  constructor(
    private readonly source: PriceSource,
    /** The stocks to fetch, asked at the start of every cycle (the list follows the stocks service). */
    private readonly stocks: () => readonly StockRef[],
    private readonly checkpoints: CheckpointStore,
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly logger: Logger,
  ) {}

  async runCycle(): Promise<CycleReport> {
    const report: CycleReport = { published: 0, cancellations: 0, failedStocks: [], catchUpSteps: 0 };
    for (const stock of this.stocks()) {
      let checkpoint = await this.checkpoints.get(stock.id);
      for (;;) {
        let fetched: SourceFetch;
        try {
          fetched = await this.source.fetch(stock, checkpoint);
        } catch (error) {
          // A bad or missing answer is skipped, never published; the next cycle asks again.
          this.logger.error(
            { err: error, stock: stock.symbol, source: this.source.name },
            'could not fetch prices',
          );
          report.failedStocks.push(stock.symbol);
          break;
        }
        const { messages } = fetched;
        if (messages.length > 0) await this.publish(stock, messages);
        const moved = !isDeepStrictEqual(checkpoint, fetched.checkpoint);
        if (moved) await this.checkpoints.set(stock.id, fetched.checkpoint);
        if (fetched.skipped) {
          this.logger.warn(
            { stock: stock.symbol, ...fetched.skipped },
            'checkpoint older than the look-back (BACKFILL_MAX_DAYS): these days are not backfilled',
          );
        }
        const cancellations = messages.filter((message) => 'cancellation' in message).length;
        report.published += messages.length - cancellations;
        report.cancellations += cancellations;
        if (messages.length > 0) {
          this.logger.debug(
            { stock: stock.symbol, trades: messages.length - cancellations, cancellations },
            'published',
          );
        }
        // A source that says it is behind without moving would loop: the next cycle asks again.
        if (!fetched.behind || !moved) break;
        report.catchUpSteps += 1;
        checkpoint = fetched.checkpoint;
      }
    }
    return report;
  }

  private async publish(stock: StockRef, messages: PriceMessage[]): Promise<void> {
    await inSpan(
      'price-fetcher',
      `publish ${this.topic}`,
      { kind: SpanKind.PRODUCER, attributes: { stock: stock.symbol, messages: messages.length } },
      async () => {
        // Empty unless tracing is on: the ingestor's span links back to this one.
        const headers = traceHeaders();
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: messages.map((message): Message =>
            'quote' in message
              ? { key: stock.id, value: encodePriceQuote(message.quote), headers }
              : {
                  key: stock.id,
                  value: encodeTradeCancellation(message.cancellation),
                  headers: { ...headers, [PRICE_MESSAGE_HEADER]: TRADE_CANCELLED },
                },
          ),
        });
      },
    );
  }
}
