import { requireActingFor } from '@brokerage/auth';
import { emptyConnection, parseConnectionArgs } from '@brokerage/graphql';
import { badUserInput, isRowId, MAX_PAGE_SIZE, parsePage } from '@brokerage/service';
import type { OrderRecord } from '../db/order-record';
import { ORDER_HISTORY_LIST } from '../db/orders-repository';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),
  credit: async ({ id }, _args, { accountOf, caller }) => {
    requireActingFor(caller, id, "see a user's credit");
    return isRowId(id) ? ((await accountOf.load(id))?.cash ?? 0) : 0;
  },
  reservedCash: async ({ id }, _args, { accountOf, caller }) => {
    requireActingFor(caller, id, "see a user's reserved cash");
    return isRowId(id) ? ((await accountOf.load(id))?.reserved ?? 0) : 0;
  },
  cashMovements: ({ id }, { limit }, { accounts, caller }) => {
    requireActingFor(caller, id, "see a user's cash movements");
    const size = limit ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw badUserInput(`limit must be 1 to ${MAX_PAGE_SIZE}`, 'limit');
    }
    return isRowId(id) ? accounts.movementsOf(id, size) : [];
  },
  orders: ({ id }, { pageNum, pageSize }, { ordersOfUser, caller }) => {
    requireActingFor(caller, id, 'see orders');
    const page = parsePage(pageNum ?? 1, pageSize ?? 10);
    return isRowId(id) ? ordersOfUser.load({ ownerId: id, ...page }) : [];
  },
  ordersConnection: ({ id }, args, { orderHistoryOfUser, caller }) => {
    requireActingFor(caller, id, 'see orders');
    const page = parseConnectionArgs(ORDER_HISTORY_LIST, args);
    return isRowId(id) ? orderHistoryOfUser.load({ ownerId: id, page }) : emptyConnection<OrderRecord>();
  },
  holdings: ({ id }, _args, { holdingsOf, caller }) => {
    requireActingFor(caller, id, 'see holdings');
    return isRowId(id) ? holdingsOf.load(id) : [];
  },
};
