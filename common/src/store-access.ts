import { OrderTopics } from './orders/messages';
import { TopicNames } from './topics';

/**
 * What each service may touch in each store, and nothing more: `npm run provision` turns this
 * into PostgreSQL roles, Redis ACL users and Kafka ACLs. A new service, topic, key prefix or
 * channel is added here, in its owner's entry, and in the owner's config default.
 */
export interface ServiceStoreAccess {
  /** The PostgreSQL database the service owns, through a role of the same name. */
  database?: string;
  redis?: {
    /** Key patterns (globs) the service reads and writes. */
    writeKeys?: string[];
    /** Key patterns the service only reads. */
    readKeys?: string[];
    /** Pub/sub channel patterns the service publishes or subscribes on. */
    channels?: string[];
    /** Lua scripts (EVALSHA over its own keys), as the rate limits and the series writes use. */
    scripts?: boolean;
  };
  kafka?: {
    /** Topics the service owns: it alone writes them. */
    produce?: string[];
    /** Topics it reads, in its consumer group. */
    consume?: string[];
    group?: string;
  };
}

/** The names the access below is given for: each service's config default, or a test's own. */
export interface StoreNames {
  databases: { users: string; listings: string; stocks: string; orders: string };
  redis: {
    /** The gateway's mutation rate limits and read budgets (RATE_LIMIT_KEY_PREFIX). */
    rateLimitPrefix: string;
    /** Order status channels (orders STATUS_CHANNEL_PREFIX = gateway ORDER_STATUS_CHANNEL_PREFIX). */
    orderStatusChannelPrefix: string;
    /** Price series (PRICES_KEY_PREFIX of the ingestor and the stocks subgraph). */
    pricesKeyPrefix: string;
    /** The price fetcher's checkpoints (its REDIS_KEY_PREFIX). */
    priceFetcherPrefix: string;
  };
  topics: {
    prices: string;
    verificationRequests: string;
    verificationOutcomes: string;
    statusChanges: string;
  };
  groups: { orders: string; priceIngestor: string; verifier: string };
}

export const defaultStoreNames: StoreNames = {
  databases: { users: 'users', listings: 'listings', stocks: 'stocks', orders: 'orders' },
  redis: {
    rateLimitPrefix: 'ratelimit:',
    orderStatusChannelPrefix: 'orders:status:',
    pricesKeyPrefix: '',
    priceFetcherPrefix: 'price-fetcher:',
  },
  topics: {
    prices: TopicNames.priceQuotes,
    verificationRequests: OrderTopics.verificationRequests,
    verificationOutcomes: OrderTopics.verificationOutcomes,
    statusChanges: OrderTopics.statusChanges,
  },
  groups: { orders: 'orders', priceIngestor: 'price-ingestor', verifier: 'verifier' },
};

export type ServiceName =
  'gateway' | 'users' | 'listings' | 'stocks' | 'orders' | 'price-fetcher' | 'price-ingestor' | 'verifier';

/** One entry per service: the whole of what it may reach. */
export function storeAccess(names: StoreNames = defaultStoreNames): Record<ServiceName, ServiceStoreAccess> {
  const { databases, redis, topics, groups } = names;
  return {
    gateway: {
      redis: {
        writeKeys: [`${redis.rateLimitPrefix}*`],
        channels: [`${redis.orderStatusChannelPrefix}*`],
        scripts: true,
      },
    },
    users: { database: databases.users },
    listings: { database: databases.listings },
    stocks: { database: databases.stocks, redis: { readKeys: [`${redis.pricesKeyPrefix}*`] } },
    orders: {
      database: databases.orders,
      redis: { channels: [`${redis.orderStatusChannelPrefix}*`] },
      kafka: {
        // Status changes have no consumer in the platform yet; the orders service owns the topic.
        produce: [topics.verificationRequests, topics.statusChanges],
        consume: [topics.verificationOutcomes, topics.prices],
        group: groups.orders,
      },
    },
    'price-fetcher': {
      redis: { writeKeys: [`${redis.priceFetcherPrefix}*`] },
      kafka: { produce: [topics.prices] },
    },
    'price-ingestor': {
      // With the default empty prefix (the bare-symbol contract) this is every key: see docs/security.md.
      redis: { writeKeys: [`${redis.pricesKeyPrefix}*`], scripts: true },
      kafka: { consume: [topics.prices], group: groups.priceIngestor },
    },
    verifier: {
      kafka: {
        produce: [topics.verificationOutcomes],
        consume: [topics.verificationRequests],
        group: groups.verifier,
      },
    },
  };
}
