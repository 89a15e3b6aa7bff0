import { badUserInput, parseRowId, requireAdmin, requireService } from '@brokerage/common';
import type { MutationResolvers } from '../generated/resolvers-types';

export const MAX_NAME_LENGTH = 100;

function validName(raw: string): string {
  const name = raw.trim();
  if (name.length === 0) throw badUserInput('name must not be empty', 'input.name');
  if (name.length > MAX_NAME_LENGTH) {
    throw badUserInput(`name must be at most ${MAX_NAME_LENGTH} characters`, 'input.name');
  }
  // Control characters have no place in a person's name and break logs and terminals.
  if (/\p{Cc}/u.test(name)) throw badUserInput('name must not contain control characters', 'input.name');
  return name;
}

export const Mutation: MutationResolvers = {
  // Credit is money: only the back office (an admin) opens accounts with it.
  createUser: (_parent, { input }, { users, caller }) => {
    requireAdmin(caller, 'create users');
    const credit = input.credit ?? 0;
    if (credit < 0) throw badUserInput('credit must be 0 or more', 'input.credit');
    return users.create({ name: validName(input.name), credit });
  },

  // Service-to-service (not in the public API): the orders subgraph moves credit for its orders.
  // Hidden from the public schema (@inaccessible), and refused to anyone but the orders service too.
  reserveCredit: (_parent, { orderId, userId, amount }, { credit, caller }) => {
    requireService(caller, 'orders', 'move credit');
    return credit.reserve(parseRowId(orderId, 'orderId'), parseRowId(userId, 'userId'), positive(amount));
  },
  captureCredit: (_parent, { orderId }, { credit, caller }) => {
    requireService(caller, 'orders', 'move credit');
    return credit.capture(parseRowId(orderId, 'orderId'));
  },
  releaseCredit: (_parent, { orderId }, { credit, caller }) => {
    requireService(caller, 'orders', 'move credit');
    return credit.release(parseRowId(orderId, 'orderId'));
  },
  depositProceeds: (_parent, { orderId, userId, amount }, { credit, caller }) => {
    requireService(caller, 'orders', 'move credit');
    return credit.deposit(parseRowId(orderId, 'orderId'), parseRowId(userId, 'userId'), positive(amount));
  },
};

function positive(amount: number): number {
  if (amount <= 0) throw badUserInput('amount must be more than 0', 'amount');
  return amount;
}
