import { requireAdmin } from '@brokerage/auth';
import { badUserInput, codedError, ErrorCode, parseRowId } from '@brokerage/service';
import type { MutationResolvers } from '../generated/resolvers-types';

export const MAX_NAME_LENGTH = 100;

export function validName(raw: string): string {
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
  // Anyone may open an account: it holds no money until an admin deposits some.
  signUp: (_parent, { input }, { sessions, tradingAccounts, requestId }) =>
    sessions.signUp({ ...input, name: validName(input.name) }, tradingAccounts, requestId),
  signIn: (_parent, { input }, { sessions }) => sessions.signIn(input),
  refreshSession: (_parent, { refreshToken }, { sessions }) => sessions.refresh(refreshToken),
  signOut: (_parent, { refreshToken }, { sessions }) => sessions.signOut(refreshToken),
  signOutEverywhere: (_parent, _args, { sessions, caller }) => sessions.signOutEverywhere(caller),
  changePassword: (_parent, { input }, { sessions, caller }) => sessions.changePassword(caller, input),
  setUserCredentials: async (_parent, { input }, { sessions, caller, userById }) => {
    requireAdmin(caller, 'set credentials');
    const userId = parseRowId(input.userId, 'input.userId');
    if (!(await sessions.setCredentials({ ...input, userId }))) {
      throw codedError(ErrorCode.USER_NOT_FOUND, `No user ${userId}`, { field: 'input.userId' });
    }
    return (await userById.load(userId))!;
  },
};
