import type { Logger } from '@brokerage/service';
import type { Kafka } from 'kafkajs';
import type { PriceFetcherConfig } from './config';
import { ListingsFollower } from './listings-follower';
import type { PriceSource } from './sources/price-source';
import { StockList } from './stock-list';

export interface StocksToFetchOptions {
  config: Pick<
    PriceFetcherConfig,
    | 'STOCKS'
    | 'STOCKS_SUBGRAPH_URL'
    | 'STOCK_LISTINGS_TOPIC'
    | 'LISTINGS_CONSUMER_GROUP'
    | 'INTERNAL_AUTH_SECRET'
    | 'SERVICE_TIMEOUT_MS'
  >;
  kafka: Kafka;
  logger: Logger;
}

/**
 * The stocks each cycle fetches: followed from the stocks service (asked at start, then kept
 * current from its listings topic) when STOCKS_SUBGRAPH_URL is set; or, for the pipeline on its
 * own, a list fixed at start (STOCKS, or else every stock the source knows).
 */
export class StocksToFetch {
  private readonly followed = new StockList();
  private readonly follower: ListingsFollower | undefined;
  /** Settles if the listings can no longer be followed (undefined when they are not followed). */
  readonly failed: Promise<Error> | undefined;

  constructor(private readonly options: StocksToFetchOptions) {
    const { config, kafka, logger } = options;
    this.follower = config.STOCKS_SUBGRAPH_URL
      ? new ListingsFollower({
          kafka,
          topic: config.STOCK_LISTINGS_TOPIC,
          groupPrefix: config.LISTINGS_CONSUMER_GROUP,
          stocksUrl: config.STOCKS_SUBGRAPH_URL,
          internalAuthSecret: config.INTERNAL_AUTH_SECRET,
          timeoutMs: config.SERVICE_TIMEOUT_MS,
          list: this.followed,
          logger: logger.child({ component: 'listings' }),
        })
      : undefined;
    this.failed = this.follower?.failed;
  }

  /** The topic followed, if the stocks are followed. */
  get followedTopic(): string | undefined {
    return this.follower ? this.options.config.STOCK_LISTINGS_TOPIC : undefined;
  }

  /** Follows the listings, once the stocks service has given its list; nothing for a fixed list. */
  async start(): Promise<void> {
    await this.follower?.start();
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
  }

  /** The list the cycles ask, from the loaded source when the list is fixed. */
  listFor(source: PriceSource): StockList {
    return this.follower ? this.followed : new StockList(this.options.config.STOCKS ?? source.stocks());
  }
}
