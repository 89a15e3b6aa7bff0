import { DateTimeScalar, MoneyScalar } from '@brokerage/graphql';
import type { Resolvers } from '../generated/resolvers-types';
import { CashMovement } from './cash-movement';
import { Holding } from './holding';
import { Mutation } from './mutation';
import { Order } from './order';
import { Query } from './query';
import { User } from './user';

export const resolvers: Resolvers = {
  Money: MoneyScalar,
  DateTime: DateTimeScalar,
  Query,
  Mutation,
  Order,
  User,
  Holding,
  CashMovement,
};
