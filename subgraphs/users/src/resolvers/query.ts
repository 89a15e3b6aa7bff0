import { parseConnectionArgs } from '@brokerage/graphql';
import { isRowId, parsePage, parseRowId } from '@brokerage/service';
import { USERS_LIST } from '../db/users-repository';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  users: (_parent, { pageNum, pageSize }, { users }) => users.page(parsePage(pageNum ?? 1, pageSize ?? 10)),
  usersConnection: (_parent, args, { users }) => users.connection(parseConnectionArgs(USERS_LIST, args)),
  user: (_parent, { id }, { userById }) => userById.load(parseRowId(id, 'id')),
  // A token may name a user of an outside identity provider that has no row here.
  me: (_parent, _args, { caller, userById }) =>
    caller.kind === 'user' && isRowId(caller.userId) ? userById.load(caller.userId) : null,
};
