import { badUserInput, codedError, parseRowId } from '@brokerage/service';
import { type OrderSide } from '@brokerage/orders-contract';
import type { StockCatalogue } from './clients/stock-catalogue';
import type { AccountsRepository } from './db/accounts-repository';
import type { OrderRecord } from './db/order-record';
import type { OrderRequest, OrderTransitions } from './db/order-transitions';
import type { OrdersRepository } from './db/orders-repository';
import type { StockListingsRepository } from './db/stock-listings-repository';
import type { StockPricesRepository } from './db/stock-prices-repository';

/** A buy or sell as the API takes it: exactly one of stockId/symbol, one of quantity/amount. */
export interface OrderInput {
  userId: string;
  stockId?: string | null;
  symbol?: string | null;
  quantity?: number | null;
  /** Cash to spend (buys only): the quantity is what it buys at the price, rounded down. */
  amount?: number | null;
  clientOrderId?: string | null;
}

const INSTRUMENT_ID = /^[0-9]{1,20}$/;
const SYMBOL = /^[A-Za-z0-9_]{1,32}$/;
// As brokers' APIs allow for their client order ids: short, printable, no spaces.
const CLIENT_ORDER_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Placing and cancelling orders. Everything a buy needs is in the orders database: the price
 * (kept from the prices topic), the user's cash, and the order with its outbox messages, so a
 * buy is one transaction: it locks the account, then one statement prices the buy, checks and
 * reserves the cash, and writes the order and its messages. Only a buy that statement did not
 * place costs more: finding out why.
 *
 * An order placed with a client order id the user has used already is not placed again: the
 * answer is the order placed with it, as it is now.
 */
export class OrderService {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly transitions: OrderTransitions,
    private readonly accounts: AccountsRepository,
    private readonly prices: StockPricesRepository,
    private readonly listings: StockListingsRepository,
    private readonly catalogue: StockCatalogue,
    private readonly maxQuantity: number,
    private readonly onOutboxWrite: () => void,
  ) {}

  buy(input: OrderInput, requestId: string): Promise<OrderRecord> {
    return this.place(this.checked('BUY', input), requestId);
  }

  sell(input: OrderInput, requestId: string): Promise<OrderRecord> {
    if (input.amount !== undefined && input.amount !== null) {
      throw badUserInput('a sell takes a quantity of shares, not an amount', 'input.amount');
    }
    return this.place(this.checked('SELL', input), requestId);
  }

  async cancel(orderId: string): Promise<OrderRecord> {
    const id = parseRowId(orderId, 'id');
    const cancelled = await this.transitions.finish(id, 'CANCELLED');
    if (cancelled) {
      this.onOutboxWrite();
      return cancelled;
    }
    const [existing] = await this.orders.findByIds([id]);
    if (!existing) throw codedError('ORDER_NOT_FOUND', `No order with id ${id}`);
    throw codedError(
      'ORDER_NOT_CANCELLABLE',
      `Order ${id} is ${existing.status}; only an IN_PROGRESS order can be cancelled`,
    );
  }

  private async place(request: OrderRequest, requestId: string, again = false): Promise<OrderRecord> {
    // Looked up before pricing, so that a retry is answered even while prices are unavailable.
    const earlier = await this.placedBefore(request);
    if (earlier) return earlier;
    const placed =
      request.side === 'BUY'
        ? await this.transitions.placeBuy(request)
        : await this.transitions.placeSell(request);
    if (placed) {
      this.onOutboxWrite();
      return placed;
    }
    // Nothing was written: no price, a delisted stock (buys), a size out of bounds, no account, or
    // the client order id was taken meanwhile.
    await this.checkPricing(request, requestId);
    const taken = await this.placedBefore(request);
    if (taken) return taken;
    if (!(await this.accounts.exists(request.userId))) {
      throw codedError('USER_NOT_FOUND', `No user with id ${request.userId}`, { field: 'input.userId' });
    }
    // The stock's first price arrived between the statement and the checks: once more.
    if (!again) return this.place(request, requestId, true);
    throw new Error(`order for user ${request.userId} was neither placed nor refused`);
  }

  /** The order already placed under the request's client order id, if it is the same order. */
  private async placedBefore(request: OrderRequest): Promise<OrderRecord | undefined> {
    if (request.clientOrderId === null) return undefined;
    const existing = await this.orders.findByClientOrderId(request.userId, request.clientOrderId);
    if (!existing) return undefined;
    if (!(await this.isSameOrder(request, existing))) {
      throw codedError(
        'CLIENT_ORDER_ID_REUSED',
        `clientOrderId ${request.clientOrderId} names order ${existing.id}, a ${existing.side} of ` +
          `${existing.quantity} of stock ${existing.stockId}: use a new one for another order`,
        { field: 'input.clientOrderId', orderId: existing.id },
      );
    }
    return existing;
  }

  private async isSameOrder(request: OrderRequest, existing: OrderRecord): Promise<boolean> {
    if (existing.side !== request.side) return false;
    const sameSize =
      'quantity' in request.size
        ? existing.quantity === request.size.quantity
        : Math.floor(request.size.amount / existing.price) === existing.quantity;
    if (!sameSize) return false;
    if ('id' in request.stock) return existing.stockId === request.stock.id;
    const stock = await this.prices.find(request.stock);
    return stock?.stockId === existing.stockId;
  }

  private checked(side: OrderSide, input: OrderInput): OrderRequest {
    const userId = parseRowId(input.userId, 'input.userId');
    const stock = checkedStock(input);
    const size = this.checkedSize(input);
    const clientOrderId = input.clientOrderId ?? null;
    if (clientOrderId !== null && !CLIENT_ORDER_ID.test(clientOrderId)) {
      throw badUserInput(
        'clientOrderId must be 1 to 64 characters of A-Z, a-z, 0-9 and . _ : -',
        'input.clientOrderId',
      );
    }
    return { side, userId, stock, size, clientOrderId };
  }

  private checkedSize(input: OrderInput): OrderRequest['size'] {
    const { quantity, amount } = input;
    const hasQuantity = quantity !== undefined && quantity !== null;
    const hasAmount = amount !== undefined && amount !== null;
    if (hasQuantity === hasAmount) {
      throw badUserInput(
        'give exactly one of quantity and amount',
        hasQuantity ? 'input.amount' : 'input.quantity',
      );
    }
    if (hasAmount) {
      if (!Number.isSafeInteger(amount) || amount <= 0) {
        throw badUserInput(
          'amount must be a whole number of the smallest currency unit, more than 0',
          'input.amount',
        );
      }
      return { amount };
    }
    this.checkQuantity(quantity!, 'input.quantity');
    return { quantity: quantity! };
  }

  private checkQuantity(quantity: number, field: string): void {
    if (!Number.isInteger(quantity) || quantity <= 0) {
      throw badUserInput('quantity must be a whole number more than 0', field);
    }
    if (quantity > this.maxQuantity)
      throw badUserInput(`quantity must be at most ${this.maxQuantity}`, field);
  }

  /** Refuses, with the reason, an order that no price can place at the stock's price now. */
  private async checkPricing(request: OrderRequest, requestId: string): Promise<void> {
    const stock = (await this.prices.find(request.stock)) ?? (await this.unpriced(request, requestId));
    // Delisted stocks are closing only: a holder may sell, nobody may buy.
    if (request.side === 'BUY' && (await this.listings.isDelisted(stock.stockId))) {
      throw codedError('STOCK_DELISTED', `Stock ${stock.symbol} is delisted: it can be sold, not bought`, {
        field: 'id' in request.stock ? 'input.stockId' : 'input.symbol',
      });
    }
    const { size } = request;
    const quantity = 'amount' in size ? Math.floor(size.amount / stock.price) : size.quantity;
    if ('amount' in size) {
      if (quantity === 0) {
        throw codedError(
          'AMOUNT_TOO_SMALL',
          `${size.amount} buys no share of ${stock.symbol} at ${stock.price}`,
          {
            field: 'input.amount',
            price: stock.price,
          },
        );
      }
      this.checkQuantity(quantity, 'input.amount');
    }
    if (!Number.isSafeInteger(stock.price * quantity)) {
      throw badUserInput('the order is too large', 'amount' in size ? 'input.amount' : 'input.quantity');
    }
  }

  /**
   * No price has been seen for the stock: it does not exist (STOCK_NOT_FOUND), or has not traded
   * yet (PRICE_UNAVAILABLE). Only this refusal asks the stocks service, which owns the list.
   */
  private async unpriced(request: OrderRequest, requestId: string): Promise<never> {
    const { stock } = request;
    const field = 'id' in stock ? 'input.stockId' : 'input.symbol';
    const name = 'id' in stock ? `id ${stock.id}` : `symbol ${stock.symbol}`;
    if (!(await this.catalogue.exists(stock, requestId))) {
      throw codedError('STOCK_NOT_FOUND', `No stock with ${name}`, { field });
    }
    throw codedError('PRICE_UNAVAILABLE', `Stock ${name} has not traded yet; there is no price to trade at`);
  }
}

function checkedStock(input: OrderInput): OrderRequest['stock'] {
  const { stockId, symbol } = input;
  const hasId = stockId !== undefined && stockId !== null;
  const hasSymbol = symbol !== undefined && symbol !== null;
  if (hasId === hasSymbol) {
    throw badUserInput('give exactly one of stockId and symbol', hasId ? 'input.symbol' : 'input.stockId');
  }
  if (hasId) {
    if (!INSTRUMENT_ID.test(stockId)) {
      throw badUserInput('stockId must be an instrument code of 1 to 20 digits', 'input.stockId');
    }
    return { id: stockId };
  }
  if (!SYMBOL.test(symbol!)) {
    throw badUserInput('symbol must be 1 to 32 letters, digits or underscores', 'input.symbol');
  }
  return { symbol: symbol!.toLowerCase() };
}
