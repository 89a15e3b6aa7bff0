import {
  connectionsByOwnerLoader,
  loaderById,
  pagesByOwnerLoader,
  type Connection,
  type ConnectionPage,
  type RequestContext,
} from '@brokerage/graphql';
import { type Page } from '@brokerage/service';
import DataLoader from 'dataloader';
import type { AccountBalance, AccountsRepository } from './db/accounts-repository';
import type { HoldingRecord, OrderRecord } from './db/order-record';
import type { OrdersRepository } from './db/orders-repository';
import type { OrderService } from './order-service';

export interface OrdersContext extends RequestContext {
  orders: OrdersRepository;
  accounts: AccountsRepository;
  orderService: OrderService;
  /** One SQL query for every order of a request's `_entities` call. */
  orderById: DataLoader<string, OrderRecord | null>;
  /** One SQL query for `User.orders` of every user in a response (per page shape). */
  ordersOfUser: DataLoader<{ ownerId: string } & Page, OrderRecord[], string>;
  /** One SQL query for `User.ordersConnection` of every user in a response (per page shape). */
  orderHistoryOfUser: DataLoader<{ ownerId: string; page: ConnectionPage }, Connection<OrderRecord>, string>;
  /** One SQL query for the holdings of every user in a response. */
  holdingsOf: DataLoader<string, HoldingRecord[]>;
  /** One SQL query for the account balances of every user in a response. */
  accountOf: DataLoader<string, AccountBalance | undefined>;
}

export function createOrdersContext(
  base: RequestContext,
  orders: OrdersRepository,
  accounts: AccountsRepository,
  orderService: OrderService,
): OrdersContext {
  return {
    ...base,
    orders,
    accounts,
    orderService,
    orderById: loaderById((ids) => orders.findByIds(ids)),
    ordersOfUser: pagesByOwnerLoader((userIds, page) => orders.historyPagesByUser(userIds, page)),
    orderHistoryOfUser: connectionsByOwnerLoader((userIds, page) =>
      orders.historyConnectionsByUser(userIds, page),
    ),
    holdingsOf: new DataLoader(async (userIds) => {
      const byUser = await orders.holdingsOf(userIds);
      return userIds.map((id) => byUser.get(id) ?? []);
    }),
    accountOf: new DataLoader(async (userIds) => {
      const balances = await accounts.balancesOf(userIds);
      return userIds.map((id) => balances.get(id));
    }),
  };
}
