import { CreateOrders1732500000000 } from './1732500000000-create-orders';
import { OutboxTraceContext1732600000000 } from './1732600000000-outbox-trace-context';
import { ClientOrderId1732700000000 } from './1732700000000-client-order-id';
import { TradingAccounts1733200000000 } from './1733200000000-trading-accounts';
import { StockListings1733400000000 } from './1733400000000-stock-listings';

/** Every migration of the orders database, oldest first. */
export const migrations = [
  CreateOrders1732500000000,
  OutboxTraceContext1732600000000,
  ClientOrderId1732700000000,
  TradingAccounts1733200000000,
  StockListings1733400000000,
];
