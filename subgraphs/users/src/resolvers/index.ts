import { DateTimeScalar, MoneyScalar } from '@brokerage/graphql';
import type { Resolvers } from '../generated/resolvers-types';
import { Mutation } from './mutation';
import { Query } from './query';
import { User } from './user';

export const resolvers: Resolvers = {
  Money: MoneyScalar,
  DateTime: DateTimeScalar,
  Query,
  Mutation,
  User,
};
