import { loaderById, type RequestContext } from '@brokerage/common';
import type DataLoader from 'dataloader';
import type { CreditLedger } from './db/credit-ledger';
import type { UserRecord } from './db/user-entity';
import type { UsersRepository } from './db/users-repository';

export interface UsersContext extends RequestContext {
  users: UsersRepository;
  credit: CreditLedger;
  /** Batches every user lookup of one request into a single SQL query. */
  userById: DataLoader<string, UserRecord | null>;
}

export function createUsersContext(
  base: RequestContext,
  users: UsersRepository,
  credit: CreditLedger,
): UsersContext {
  return {
    ...base,
    users,
    credit,
    userById: loaderById((ids) => users.findByIds(ids)),
  };
}
