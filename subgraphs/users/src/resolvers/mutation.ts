import { badUserInput, requireAdmin } from '@brokerage/common';
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
  // Starting credit is money: only the back office (an admin) opens accounts with it.
  createUser: (_parent, { input }, { users, tradingAccounts, caller, requestId }) => {
    requireAdmin(caller, 'create users');
    const credit = input.credit ?? 0;
    if (!Number.isSafeInteger(credit) || credit < 0)
      throw badUserInput('credit must be 0 or more', 'input.credit');
    return users.create({ name: validName(input.name) }, (user) =>
      tradingAccounts.open(user.id, credit, requestId),
    );
  },
};
