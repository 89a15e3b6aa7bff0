import { type Logger } from '@brokerage/service';
import {
  pricePointsChannel,
  pricePointsEventSchema,
  type PricePointsEvent,
} from '@brokerage/price-ingestor-contract';
import { ChannelFeed, type ChannelListener } from './channel-feed';

/** Called with every announcement of new points of a watched stock (see ChannelListener). */
export type PricePointsListener = ChannelListener<PricePointsEvent>;

/** New minute points, from the channel per stock the price ingestor publishes on. */
export class PricePointsFeed extends ChannelFeed<PricePointsEvent> {
  constructor(redisUrl: string, channelPrefix: string, logger: Logger) {
    super({
      redisUrl,
      logger,
      component: 'price-feed',
      channelOf: (symbol) => pricePointsChannel(channelPrefix, symbol),
      decode: (message) => pricePointsEventSchema.parse(JSON.parse(message)),
      unreadable: 'unreadable price points; subscribers read the latest',
    });
  }

  /** Stocks watched right now (one Redis subscription each). */
  get watchedStocks(): number {
    return this.watched;
  }
}
