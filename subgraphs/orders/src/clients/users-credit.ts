import { SubgraphClient, type InternalTokens } from '@brokerage/common';
import type { CreditCommand } from '../db/orders-repository';

export type ReservationStatus = 'RESERVED' | 'DENIED' | 'CAPTURED' | 'RELEASED';

/**
 * The users service's credit operations for orders (service-to-service, not in the public API).
 * Each is idempotent by order id, so a retry after a timeout or a crash never moves money twice.
 */
export class UsersCredit {
  private readonly client: SubgraphClient;

  constructor(usersUrl: string, timeoutMs: number, tokens: InternalTokens) {
    this.client = new SubgraphClient('users', usersUrl, timeoutMs, tokens);
  }

  async reserve(
    orderId: string,
    userId: string,
    amount: number,
    requestId?: string,
  ): Promise<ReservationStatus> {
    const data = await this.client.request<{ reserveCredit: { status: ReservationStatus } }>(
      `mutation Reserve($orderId: ID!, $userId: ID!, $amount: Money!) {
         reserveCredit(orderId: $orderId, userId: $userId, amount: $amount) { status }
       }`,
      { orderId, userId, amount },
      requestId,
    );
    return data.reserveCredit.status;
  }

  async apply(command: CreditCommand): Promise<void> {
    switch (command.action) {
      case 'capture':
        await this.client.request(
          `mutation ($orderId: ID!) { captureCredit(orderId: $orderId) { status } }`,
          {
            orderId: command.orderId,
          },
        );
        return;
      case 'release':
        await this.client.request(
          `mutation ($orderId: ID!) { releaseCredit(orderId: $orderId) { status } }`,
          {
            orderId: command.orderId,
          },
        );
        return;
      case 'deposit':
        await this.client.request(
          `mutation ($orderId: ID!, $userId: ID!, $amount: Money!) {
             depositProceeds(orderId: $orderId, userId: $userId, amount: $amount) { orderId }
           }`,
          { orderId: command.orderId, userId: command.userId, amount: command.amount },
        );
    }
  }
}
