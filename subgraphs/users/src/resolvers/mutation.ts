import { badUserInput, parseRowId } from '@brokerage/common';
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
  createUser: (_parent, { input }, { users }) => {
    const credit = input.credit ?? 0;
    if (credit < 0) throw badUserInput('credit must be 0 or more', 'input.credit');
    return users.create({ name: validName(input.name), credit });
  },

  // Service-to-service (not in the public API): the orders subgraph moves credit for its orders.
  reserveCredit: (_parent, { orderId, userId, amount }, { credit }) =>
    credit.reserve(parseRowId(orderId, 'orderId'), parseRowId(userId, 'userId'), positive(amount)),
  captureCredit: (_parent, { orderId }, { credit }) => credit.capture(parseRowId(orderId, 'orderId')),
  releaseCredit: (_parent, { orderId }, { credit }) => credit.release(parseRowId(orderId, 'orderId')),
  depositProceeds: (_parent, { orderId, userId, amount }, { credit }) =>
    credit.deposit(parseRowId(orderId, 'orderId'), parseRowId(userId, 'userId'), positive(amount)),
};

function positive(amount: number): number {
  if (amount <= 0) throw badUserInput('amount must be more than 0', 'amount');
  return amount;
}
