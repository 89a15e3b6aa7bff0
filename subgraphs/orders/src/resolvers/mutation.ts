import {
  requireActingFor,
  requireAdmin,
  requireService,
  unauthenticated,
  type Caller,
} from '@brokerage/auth';
import { badUserInput, parseRowId } from '@brokerage/service';
import type { MutationResolvers } from '../generated/resolvers-types';
import type { OrderRecord } from '../db/order-record';

const result = (order: OrderRecord) => ({ order, status: order.status, message: order.message });

// As payment systems allow for their references: short, printable, no spaces.
const REFERENCE = /^[A-Za-z0-9._:-]{1,64}$/;

/** The user an order is for: the one named, or the signed-in caller. */
function orderOwner(caller: Caller, userId: string | null | undefined, what: string): string {
  if (userId === undefined || userId === null) {
    if (caller.kind !== 'user') throw unauthenticated(`Sign in to ${what}`);
    return caller.userId;
  }
  requireActingFor(caller, userId, what);
  return userId;
}

function checkedMoney(userId: string, amount: number, reference: string) {
  if (!Number.isSafeInteger(amount) || amount <= 0)
    throw badUserInput('amount must be more than 0', 'amount');
  if (!REFERENCE.test(reference)) {
    throw badUserInput('reference must be 1 to 64 characters of A-Z, a-z, 0-9 and . _ : -', 'reference');
  }
  return { userId: parseRowId(userId, 'userId'), amount, reference };
}

export const Mutation: MutationResolvers = {
  buyStock: async (_parent, { input }, { orderService, requestId, caller }) => {
    const userId = orderOwner(caller, input.userId, 'buy');
    return result(await orderService.buy({ ...input, userId }, requestId));
  },
  sellStock: async (_parent, { input }, { orderService, requestId, caller }) => {
    const userId = orderOwner(caller, input.userId, 'sell');
    return result(await orderService.sell({ ...input, userId }, requestId));
  },
  cancelOrder: async (_parent, { id }, { orderService, orderById, caller }) => {
    // The owner is checked first; an order that does not exist is left to cancel() to report.
    const order = await orderById.load(parseRowId(id, 'id'));
    if (order) requireActingFor(caller, order.userId, 'cancel orders');
    return result(await orderService.cancel(id));
  },
  depositCash: (_parent, { userId, amount, reference }, { accounts, caller }) => {
    requireAdmin(caller, 'deposit cash');
    const movement = checkedMoney(userId, amount, reference);
    return accounts.deposit(movement.userId, movement.amount, movement.reference);
  },
  withdrawCash: (_parent, { userId, amount, reference }, { accounts, caller }) => {
    requireAdmin(caller, 'withdraw cash');
    const movement = checkedMoney(userId, amount, reference);
    return accounts.withdraw(movement.userId, movement.amount, movement.reference);
  },
  // Hidden from the public schema (@inaccessible), and refused to anyone but the users service too.
  openAccount: async (_parent, { userId, cash }, { accounts, caller }) => {
    requireService(caller, 'users', 'open trading accounts');
    if (!Number.isSafeInteger(cash) || cash < 0) throw badUserInput('cash must be 0 or more', 'cash');
    const id = parseRowId(userId, 'userId');
    await accounts.open(id, cash);
    return { id };
  },
};
