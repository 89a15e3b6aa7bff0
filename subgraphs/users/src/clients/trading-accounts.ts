import { type InternalTokens } from '@brokerage/auth';
import { SubgraphClient } from '@brokerage/graphql';

/** The orders service's trading accounts, as the users service opens them for new users. */
export class TradingAccounts {
  private readonly client: SubgraphClient;

  constructor(ordersUrl: string, timeoutMs: number, tokens: InternalTokens) {
    this.client = new SubgraphClient('orders', ordersUrl, timeoutMs, tokens);
  }

  /** Opens the user's account with its starting cash; idempotent by user id. */
  async open(userId: string, cash: number, requestId: string): Promise<void> {
    await this.client.request(
      'mutation OpenAccount($userId: ID!, $cash: Money!) { openAccount(userId: $userId, cash: $cash) { id } }',
      { userId, cash },
      requestId,
    );
  }
}
