import { badUserInput, codedError, parseRowId, type Logger, type OrderSide } from '@brokerage/common';
import type { StockPrices } from './clients/stock-prices';
import type { UsersCredit } from './clients/users-credit';
import { isUnanswered, type OrderRecord } from './db/order-record';
import type { NewOrder, OrdersRepository, Placement } from './db/orders-repository';
import type { OrderStatusPublisher } from './status/order-status-publisher';

export interface OrderInput {
  userId: string;
  stockId: string;
  quantity: number;
  clientOrderId?: string | null;
}

/** An order as requested, checked, before it is priced. */
type OrderRequest = Omit<NewOrder, 'price' | 'total'>;

const INSTRUMENT_ID = /^[0-9]{1,20}$/;
// As brokers' APIs allow for their client order ids: short, printable, no spaces.
const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Placing and cancelling orders. A buy's credit belongs to the users service, so a buy is a small
 * saga: the order is created unanswered (NEW), the users service reserves the credit (idempotent
 * by order id), and the answer is recorded with its outbox messages. A crash anywhere leaves a NEW
 * order that `recoverUnanswered` finishes the same way, so no reservation is ever orphaned.
 *
 * An order placed with a client order id the user has used already is not placed again: the
 * answer is the order placed with it, as it is now. Sent again before its first request was
 * answered, a buy is answered by whichever request gets there first (both ask for the same
 * reservation, which is idempotent by order id).
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
    const request = this.checked('BUY', input);
    const placement =
      (await this.placedBefore(request)) ??
      (await this.orders.createUnanswered(await this.priced(request, requestId)));
    const order = placement.placed ? placement.order : this.sameOrder(request, placement.existing);
    return isUnanswered(order) ? this.answer(order, requestId) : order;
  }

  async sell(input: OrderInput, requestId: string): Promise<OrderRecord> {
    const request = this.checked('SELL', input);
    const placement =
      (await this.placedBefore(request)) ??
      (await this.orders.placeSell(await this.priced(request, requestId)));
    if (!placement.placed) return this.sameOrder(request, placement.existing);
    this.onOutboxWrite();
    return placement.order;
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

  /**
   * The order already placed under the request's client order id, if any: found before pricing,
   * so that a retry is answered even while prices are unavailable.
   */
  private async placedBefore(request: OrderRequest): Promise<Placement | undefined> {
    if (request.clientOrderId === null) return undefined;
    const existing = await this.orders.findByClientOrderId(request.userId, request.clientOrderId);
    return existing && { placed: false, existing };
  }

  /** `existing`, if it is the order `request` asks for again; refused if it is another one. */
  private sameOrder(request: OrderRequest, existing: OrderRecord): OrderRecord {
    if (
      existing.side !== request.side ||
      existing.stockId !== request.stockId ||
      existing.quantity !== request.quantity
    ) {
      throw codedError(
        'CLIENT_ORDER_ID_REUSED',
        `clientOrderId ${request.clientOrderId} names order ${existing.id}, a ${existing.side} of ` +
          `${existing.quantity} of stock ${existing.stockId}: use a new one for another order`,
        { field: 'input.clientOrderId', orderId: existing.id },
      );
    }
    return existing;
  }

  private checked(side: OrderSide, input: OrderInput): OrderRequest {
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
    const clientOrderId = input.clientOrderId ?? null;
    if (clientOrderId !== null && !CLIENT_ORDER_ID.test(clientOrderId)) {
      throw badUserInput(
        'clientOrderId must be 1 to 64 characters of A-Z, a-z, 0-9 and . _ : -',
        'input.clientOrderId',
      );
    }
    return { side, userId, stockId: input.stockId, quantity: input.quantity, clientOrderId };
  }

  private async priced(request: OrderRequest, requestId: string): Promise<NewOrder> {
    const price = await this.prices.lastPrice(request.stockId, requestId);
    const total = price * request.quantity;
    if (!Number.isSafeInteger(total)) throw badUserInput('the order is too large', 'input.quantity');
    return { ...request, price, total };
  }
}
