import { isRowId } from '@brokerage/service';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  // The gateway sends every user of a response in one `_entities` call; the loader makes it one query.
  __resolveReference: ({ id }, { userById }) => (isRowId(id) ? userById.load(id) : null),
};
