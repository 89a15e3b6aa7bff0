import type { QueryResolvers } from '../generated/resolvers-types';
import { signedInUser } from './signed-in';

export const Query: QueryResolvers = {
  webhooks: (_parent, _args, { webhooks, caller }) => webhooks.of(signedInUser(caller, 'see your webhooks')),
};
