import { requireActingFor } from '@brokerage/auth';
import { badUserInput, codedError, parseRowId } from '@brokerage/service';
import type { MutationResolvers } from '../generated/resolvers-types';

export const Mutation: MutationResolvers = {
  createListing: async (_parent, { input }, { listings, usersDirectory, requestId, caller }) => {
    const userId = parseRowId(input.userId, 'input.userId');
    requireActingFor(caller, userId, 'list properties');
    if (input.price <= 0) throw badUserInput('price must be more than 0', 'input.price');
    // Checked before the insert, so a listing never points at a user that does not exist.
    if (!(await usersDirectory.exists(userId, requestId))) {
      throw codedError('USER_NOT_FOUND', `No user with id ${userId}`, { field: 'input.userId' });
    }
    return listings.create({ userId, listingType: input.listingType, price: input.price });
  },
};
