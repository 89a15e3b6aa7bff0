import { parseConnectionArgs, parsePage, parseRowId } from '@brokerage/common';
import { USERS_LIST } from '../db/users-repository';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  users: (_parent, { pageNum, pageSize }, { users }) => users.page(parsePage(pageNum ?? 1, pageSize ?? 10)),
  usersConnection: (_parent, args, { users }) => users.connection(parseConnectionArgs(USERS_LIST, args)),
  user: (_parent, { id }, { userById }) => userById.load(parseRowId(id, 'id')),
};
