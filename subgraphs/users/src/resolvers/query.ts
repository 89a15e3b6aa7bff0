import { parsePage, parseRowId } from '@brokerage/common';
import type { QueryResolvers } from '../generated/resolvers-types';

export const Query: QueryResolvers = {
  users: (_parent, { pageNum, pageSize }, { users }) => users.page(parsePage(pageNum ?? 1, pageSize ?? 10)),
  user: (_parent, { id }, { userById }) => userById.load(parseRowId(id, 'id')),
};
