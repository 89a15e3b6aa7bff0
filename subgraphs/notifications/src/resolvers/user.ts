import { requireActingFor } from '@brokerage/auth';
import { badUserInput, isRowId, MAX_PAGE_SIZE } from '@brokerage/service';
import type { UserResolvers } from '../generated/resolvers-types';

export const User: UserResolvers = {
  __resolveReference: ({ id }) => ({ id }),
  webhookDeliveries: ({ id }, { limit, status }, { webhooks, caller }) => {
    requireActingFor(caller, id, 'see webhook deliveries');
    const size = limit ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE)
      throw badUserInput(`limit must be 1 to ${MAX_PAGE_SIZE}`, 'limit');
    return isRowId(id) ? webhooks.deliveriesOf(id, size, status ?? undefined) : [];
  },
};
