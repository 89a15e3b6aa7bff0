import { badUserInput, parseRowId, type Logger, type OrderSide } from '@brokerage/common';
import type { StockPrices } from './clients/stock-prices';
import type { UsersCredit } from './clients/users-credit';
import type { OrderRecord } from './db/order-record';
import type { OrdersRepository } from './db/orders-repository';
import type { OrderStatusPublisher } from './status/order-status-publisher';

export interface OrderInput {
  userId: string;
  stockId: string;
  quantity: number;
}

const INSTRUMENT_ID = /^[0-9]{1,20}$/;

/**
 * Placing and cancelling orders. A buy's credit belongs to the users service, so a buy is a small
 * saga: the order is created unanswered (NEW), the users service reserves the credit (idempotent
 * by order id), and the answer is recorded with its outbox messages. A crash anywhere leaves a NEW
 * order that `recoverUnanswered` finishes the same way, so no reservation is ever orphaned.
 */
export class OrderService {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly credit: UsersCredit,
    private readonly prices: StockPrices,
    private readonly maxQuantity: number,
    private readonly statusPublisher: OrderStatusPublisher,
    private readonly onOutboxWrite: () => void,
    private readonly logger: Logger,
  ) {}

  async buy(input: OrderInput, requestId: string): Promise<OrderRecord> {
    const order = await this.orders.createUnanswered(await this.priced('BUY', input, requestId));
    return this.answer(order, requestId);
  }

  async sell(input: OrderInput, requestId: string): Promise<OrderRecord> {
    const order = await this.orders.placeSell(await this.priced('SELL', input, requestId));
    this.onOutboxWrite();
    return order;
  }

  async cancel(orderId: string): Promise<OrderRecord> {
    const order = await this.orders.cancel(parseRowId(orderId, 'id'));
    this.statusPublisher.announceCommitted(order);
    this.onOutboxWrite();
    return order;
  }

  /** Finishes buys left unanswered by a process that died mid-request. */
  async recoverUnanswered(olderThanMs: number): Promise<number> {
    const stranded = await this.orders.unansweredOlderThan(olderThanMs);
    for (const order of stranded) {
      try {
        await this.answer(order, `recovery-${order.id}`);
        this.logger.info({ orderId: order.id }, 'answered a stranded order');
      } catch (error) {
        this.logger.warn({ err: error, orderId: order.id }, 'could not answer a stranded order yet');
      }
    }
    return stranded.length;
  }

  private async answer(order: OrderRecord, requestId: string): Promise<OrderRecord> {
    let status;
    try {
      status = await this.credit.reserve(order.id, order.userId, order.total, requestId);
    } catch (error) {
      if ((error as { extensions?: { code?: unknown } }).extensions?.code === 'USER_NOT_FOUND') {
        await this.orders.deleteUnanswered(order.id);
      }
      throw error;
    }
    const answered = await this.orders.answerBuy(order.id, status !== 'DENIED');
    this.onOutboxWrite();
    // Undefined only if another process (recovery) answered it first: read what it recorded.
    return answered ?? (await this.orders.findByIds([order.id]))[0]!;
  }

  private async priced(side: OrderSide, input: OrderInput, requestId: string) {
    const userId = parseRowId(input.userId, 'input.userId');
    if (!INSTRUMENT_ID.test(input.stockId)) {
      throw badUserInput('stockId must be an instrument code of 1 to 20 digits', 'input.stockId');
    }
    if (!Number.isInteger(input.quantity) || input.quantity <= 0) {
      throw badUserInput('quantity must be a whole number more than 0', 'input.quantity');
    }
    if (input.quantity > this.maxQuantity) {
      throw badUserInput(`quantity must be at most ${this.maxQuantity}`, 'input.quantity');
    }
    const price = await this.prices.lastPrice(input.stockId, requestId);
    const total = price * input.quantity;
    if (!Number.isSafeInteger(total)) throw badUserInput('the order is too large', 'input.quantity');
    return { side, userId, stockId: input.stockId, quantity: input.quantity, price, total };
  }
}
