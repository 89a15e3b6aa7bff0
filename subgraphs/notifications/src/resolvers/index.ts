import { DateTimeScalar } from '@brokerage/graphql';
import type { Resolvers } from '../generated/resolvers-types';
import { Mutation } from './mutation';
import { Query } from './query';
import { User } from './user';
import { WebhookDelivery } from './webhook-delivery';

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Query,
  Mutation,
  User,
  WebhookDelivery,
};
