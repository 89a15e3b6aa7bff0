import { DateScalar, DateTimeScalar, MoneyScalar } from '@brokerage/graphql';
import type { Resolvers } from '../generated/resolvers-types';
import { Mutation } from './mutation';
import { Query } from './query';
import { Stock } from './stock';

export const resolvers: Resolvers = {
  Money: MoneyScalar,
  DateTime: DateTimeScalar,
  Date: DateScalar,
  Query,
  Mutation,
  Stock,
};
