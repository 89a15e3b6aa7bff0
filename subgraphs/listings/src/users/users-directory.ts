import { type InternalTokens } from '@brokerage/auth';
import { SubgraphClient } from '@brokerage/graphql';

/**
 * Asks the users subgraph whether a user exists. The listings service owns no user data and
 * never reads the users database; this service-to-service call is how it checks an owner.
 */
export class UsersDirectory {
  private readonly client: SubgraphClient;

  constructor(usersUrl: string, timeoutMs: number, tokens: InternalTokens) {
    this.client = new SubgraphClient('users', usersUrl, timeoutMs, tokens);
  }

  async exists(userId: string, requestId: string): Promise<boolean> {
    const data = await this.client.request<{ user: { id: string } | null }>(
      'query UserExists($id: ID!) { user(id: $id) { id } }',
      { id: userId },
      requestId,
    );
    return data.user !== null;
  }
}
