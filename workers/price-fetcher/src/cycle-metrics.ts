import { Counter, Gauge, type Registry } from 'prom-client';
import type { CycleReport } from './price-fetcher';
import type { StockList } from './stock-list';

/** The fetch cycles' metrics: what each cycle published, took back, failed and caught up. */
export class CycleMetrics {
  private readonly published: Counter;
  private readonly cancellations: Counter;
  private readonly failures: Counter;
  private readonly catchUpSteps: Counter;

  constructor(private readonly registry: Registry) {
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
    this.published = counter('price_quotes_published_total', 'Trades published to Kafka');
    this.cancellations = counter(
      'price_cancellations_published_total',
      'Cancelled trades taken back (published as trade cancellations)',
    );
    this.failures = counter(
      'price_fetch_failures_total',
      'Stocks whose prices could not be fetched in a cycle',
    );
    this.catchUpSteps = counter(
      'price_catch_up_days_total',
      'Days of a stock caught up from the source history after downtime (one fetch each)',
    );
  }

  record(report: CycleReport): void {
    this.published.inc(report.published);
    this.cancellations.inc(report.cancellations);
    this.failures.inc(report.failedStocks.length);
    this.catchUpSteps.inc(report.catchUpSteps);
  }

  /** Reports how many stocks `stocks` holds at each scrape. */
  countStocks(stocks: StockList): void {
    new Gauge({
      name: 'price_fetcher_stocks',
      help: 'Stocks fetched each cycle (the stocks service lists them, or the fixed list)',
      registers: [this.registry],
      collect(this: Gauge) {
        this.set(stocks.current().length);
      },
    });
  }
}
