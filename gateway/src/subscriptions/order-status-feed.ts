import { type Logger } from '@brokerage/service';
import {
  orderStatusChannel,
  orderStatusEventSchema,
  type OrderStatusEvent,
} from '@brokerage/orders-contract';
import { ChannelFeed, type ChannelListener } from './channel-feed';

/** Called on every change of a watched order, with its event (see ChannelListener). */
export type OrderStatusListener = ChannelListener<OrderStatusEvent>;

/** Order status changes, from the channel per order the orders service publishes on. */
export class OrderStatusFeed extends ChannelFeed<OrderStatusEvent> {
  constructor(redisUrl: string, channelPrefix: string, logger: Logger) {
    super({
      redisUrl,
      logger,
      component: 'status-feed',
      channelOf: (orderId) => orderStatusChannel(channelPrefix, orderId),
      decode: (message) => orderStatusEventSchema.parse(JSON.parse(message)),
      unreadable: 'unreadable order status event; subscribers look again',
    });
  }

  /** Orders watched right now (one Redis subscription each). */
  get watchedOrders(): number {
    return this.watched;
  }
}
