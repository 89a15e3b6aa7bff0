import { loaderById, type RequestContext } from '@brokerage/graphql';
import type DataLoader from 'dataloader';
import type { TradingAccounts } from './clients/trading-accounts';
import type { UserRecord } from './db/user-entity';
import type { UsersRepository } from './db/users-repository';
import type { SessionService } from './sessions';

export interface UsersContext extends RequestContext {
  users: UsersRepository;
  tradingAccounts: TradingAccounts;
  sessions: SessionService;
  /** Batches every user lookup of one request into a single SQL query. */
  userById: DataLoader<string, UserRecord | null>;
}

export function createUsersContext(
  base: RequestContext,
  users: UsersRepository,
  tradingAccounts: TradingAccounts,
  sessions: SessionService,
): UsersContext {
  return {
    ...base,
    users,
    tradingAccounts,
    sessions,
    userById: loaderById((ids) => users.findByIds(ids)),
  };
}
