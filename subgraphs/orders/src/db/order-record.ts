import type { OrderSide, OrderStatus } from '@brokerage/orders-contract';
import { moneyFromColumn } from '@brokerage/graphql';

/** An order as stored; the GraphQL `Order` resolves from this shape. */
export interface OrderRecord {
  id: string;
  side: OrderSide;
  userId: string;
  stockId: string;
  quantity: number;
  price: number;
  total: number;
  status: OrderStatus;
  message: string;
  createdAt: Date;
  updatedAt: Date;
  /** The client's own id for the order, unique per user; null when it gave none. */
  clientOrderId: string | null;
}

export interface OrderRow {
  id: string;
  side: OrderSide;
  user_id: string;
  stock_id: string;
  quantity: number;
  price: string;
  total: string;
  status: OrderStatus;
  message: string;
  created_at: Date;
  updated_at: Date;
  client_order_id: string | null;
}

export function orderFromRow(row: OrderRow): OrderRecord {
  return {
    id: row.id,
    side: row.side,
    userId: row.user_id,
    stockId: row.stock_id,
    quantity: row.quantity,
    price: moneyFromColumn(row.price),
    total: moneyFromColumn(row.total),
    status: row.status,
    message: row.message,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    clientOrderId: row.client_order_id,
  };
}

/** A holding as the GraphQL `Holding` resolves it. */
export interface HoldingRecord {
  stockId: string;
  quantity: number;
}

/** The exact messages of the public contract. */
export const OrderMessages = {
  BUY: {
    DENIED: 'Deny: Not enough credit',
    IN_PROGRESS: 'In Progress: Credit check passed. User verification in progress...',
    COMPLETED: 'Success: Buy order complete.',
    FAILED: 'Failure: User verification unsuccessful.',
    CANCELLED: 'Cancelled: Order cancelled by user.',
  },
  SELL: {
    DENIED: 'Deny: Not enough shares',
    IN_PROGRESS: 'In Progress: Share check passed. User verification in progress...',
    COMPLETED: 'Success: Sell order complete.',
    FAILED: 'Failure: User verification unsuccessful.',
    CANCELLED: 'Cancelled: Order cancelled by user.',
  },
} as const satisfies Record<OrderSide, Record<OrderStatus, string>>;

/** An entity another subgraph resolves; this one knows only its key. */
export interface EntityReference {
  id: string;
}
