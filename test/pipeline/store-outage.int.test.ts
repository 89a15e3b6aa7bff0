import { CALLER_TOKEN_HEADER, InternalTokens } from '@brokerage/auth';
import { createKafka } from '@brokerage/kafka';
import { loadConfig } from '@brokerage/service';
import { stocksConfigSchema } from '../../subgraphs/stocks/src/config';
import { start as startStocks } from '../../subgraphs/stocks/src/server';
import { graphql } from '../support/graphql';
import {
  deleteTopics,
  dropDatabases,
  kafkaBrokers,
  testDatabaseUrl,
  testLogger,
  testRedisUrl,
  uniqueSuffix,
} from '../support/services';
import { startTcpProxy, type TcpProxy } from '../../scripts/tcp-front';

// A store that cannot be reached is an outage the client waits out, not a bug: the answer comes
// at once with DEPENDENCY_UNAVAILABLE (never a hang, never INTERNAL_SERVER_ERROR), and the service
// heals by itself when the store is back. PostgreSQL and Redis are reached through a front that
// the test cuts, as a network partition would, so the machine's own servers keep running.

const QUERY = '{ stocks { id symbol lastPrice } }';

describe('a subgraph whose stores become unreachable', () => {
  const suffix = uniqueSuffix();
  const databaseUrl = testDatabaseUrl('stocks');
  let postgres: TcpProxy;
  let redis: TcpProxy;
  let stocks: { url: string; stop(): Promise<void> };
  let admin: Record<string, string>;

  beforeAll(async () => {
    const direct = new URL(databaseUrl);
    postgres = await startTcpProxy([`${direct.hostname}:${direct.port || 5432}`]);
    const redisDirect = new URL(testRedisUrl);
    redis = await startTcpProxy([`${redisDirect.hostname}:${redisDirect.port || 6379}`]);
    const viaFront = new URL(databaseUrl);
    viaFront.host = postgres.address;
    const config = loadConfig(stocksConfigSchema, {
      PORT: '0',
      NODE_ENV: 'test',
      DATABASE_URL: viaFront.toString(),
      REDIS_URL: `redis://${redis.address}`,
      PRICES_KEY_PREFIX: `test:${suffix}:prices:`,
      // The suite's own topic for the stocks service's listing announcements.
      STOCK_LISTINGS_TOPIC: `test.${suffix}.stock-listings`,
    });
    stocks = await startStocks(config, testLogger('stocks'));
    // Called as the gateway calls it, for an admin (only admins list stocks).
    const token = await new InternalTokens(config.INTERNAL_AUTH_SECRET, 'gateway').sign({
      kind: 'user',
      userId: '1',
      admin: true,
    });
    admin = { [CALLER_TOKEN_HEADER]: token };
    await graphql(
      stocks.url,
      'mutation { createStock(input: { id: "44891482026867833", symbol: "stock1", name: "Stock 1" }) { id } }',
      {},
      admin,
    );
  });

  afterAll(async () => {
    await stocks?.stop();
    await Promise.all([postgres.close(), redis.close()]);
    await dropDatabases(databaseUrl);
    await deleteTopics(
      createKafka({ clientId: 'test', brokers: kafkaBrokers(), logger: testLogger('kafka') }),
      [`test.${suffix}.stock-listings`],
    ).catch(() => undefined);
  });

  it.each([
    // The pool waits up to its connection timeout for a connection PostgreSQL refuses.
    ['PostgreSQL', () => postgres, 10_000],
    // Price reads fail fast: no wait for Redis's reconnection attempts.
    ['Redis', () => redis, 1_000],
  ])(
    'answers DEPENDENCY_UNAVAILABLE at once while %s is unreachable, and heals after',
    async (_name, front, within) => {
      expect((await graphql(stocks.url, QUERY, {}, admin)).errors).toBeUndefined();
      front().cut();
      try {
        const started = Date.now();
        const answer = await graphql(stocks.url, QUERY, {}, admin);
        const elapsed = Date.now() - started;
        expect(answer.errors?.map(({ extensions }) => extensions?.code)).toEqual(['DEPENDENCY_UNAVAILABLE']);
        // The answer names no store, address or driver error, in any environment.
        expect(JSON.stringify(answer)).not.toMatch(/ECONN|127\.0\.0\.1|postgres|redis/i);
        expect(elapsed).toBeLessThan(within);
      } finally {
        front().restore();
      }
      const deadline = Date.now() + 30_000;
      let healed = false;
      while (!healed && Date.now() < deadline) {
        healed = (await graphql(stocks.url, QUERY, {}, admin)).errors === undefined;
        if (!healed) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(healed).toBe(true);
    },
  );
});
