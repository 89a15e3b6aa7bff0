import { DEFAULT_ORDER_STATUS_CHANNEL_PREFIX, OrderTopics } from '@brokerage/orders-contract';
import { PriceFetcherTopics } from '@brokerage/price-fetcher-contract';
import {
  DEFAULT_PRICE_POINTS_CHANNEL_PREFIX,
  DEFAULT_PRICES_KEY_PREFIX,
} from '@brokerage/price-ingestor-contract';
import { StocksTopics } from '@brokerage/stocks-contract';
import { VerifierTopics } from '@brokerage/verifier-contract';

/**
 * What each service may touch in each store, and nothing more: `npm run provision` turns this
 * into PostgreSQL roles, Redis ACL users and Kafka ACLs. A new service, topic, key prefix or
 * channel is defined in its owner's `@brokerage/*-contract` and given here to its owner's entry.
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
    /** Topics it reads, in its consumer groups. */
    consume?: string[];
    groups?: string[];
    /**
     * Whether `groups` are prefixes: each process joins a group of its own under one (the price
     * fetcher's listings follower, so that every replica hears every announcement).
     */
    groupIsPrefix?: boolean;
  };
}

/** The names the access below is given for: each service's config default, or a test's own. */
export interface StoreNames {
  databases: { users: string; listings: string; stocks: string; orders: string; notifications: string };
  redis: {
    /** The gateway's mutation rate limits and read budgets (RATE_LIMIT_KEY_PREFIX). */
    rateLimitPrefix: string;
    /** Order status channels (orders STATUS_CHANNEL_PREFIX = gateway ORDER_STATUS_CHANNEL_PREFIX). */
    orderStatusChannelPrefix: string;
    /** Price series (PRICES_KEY_PREFIX of the ingestor and the stocks subgraph). */
    pricesKeyPrefix: string;
    /** The price fetcher's checkpoints (its REDIS_KEY_PREFIX). */
    priceFetcherPrefix: string;
    /** New minute points, announced by the ingestor, heard by gateways (PRICE_POINTS_CHANNEL_PREFIX). */
    pricePointsChannelPrefix: string;
  };
  topics: {
    prices: string;
    stockListings: string;
    verificationRequests: string;
    verificationOutcomes: string;
    statusChanges: string;
  };
  groups: {
    orders: string;
    /** The orders service's view of the stock list is read in a group of its own (it commits nothing). */
    ordersListings: string;
    priceFetcher: string;
    priceIngestor: string;
    verifier: string;
    notifier: string;
  };
}

export const defaultStoreNames: StoreNames = {
  databases: {
    users: 'users',
    listings: 'listings',
    stocks: 'stocks',
    orders: 'orders',
    notifications: 'notifications',
  },
  redis: {
    rateLimitPrefix: 'ratelimit:',
    orderStatusChannelPrefix: DEFAULT_ORDER_STATUS_CHANNEL_PREFIX,
    pricesKeyPrefix: DEFAULT_PRICES_KEY_PREFIX,
    priceFetcherPrefix: 'price-fetcher:',
    pricePointsChannelPrefix: DEFAULT_PRICE_POINTS_CHANNEL_PREFIX,
  },
  topics: {
    prices: PriceFetcherTopics.priceQuotes,
    stockListings: StocksTopics.stockListings,
    verificationRequests: OrderTopics.verificationRequests,
    verificationOutcomes: VerifierTopics.verificationOutcomes,
    statusChanges: OrderTopics.statusChanges,
  },
  groups: {
    orders: 'orders',
    ordersListings: 'orders-listings',
    priceFetcher: 'price-fetcher',
    priceIngestor: 'price-ingestor',
    verifier: 'verifier',
    notifier: 'notifier',
  },
};

export type ServiceName =
  | 'gateway'
  | 'users'
  | 'listings'
  | 'stocks'
  | 'orders'
  | 'notifications'
  | 'price-fetcher'
  | 'price-ingestor'
  | 'verifier'
  | 'notifier';

/** One entry per service: the whole of what it may reach. */
export function storeAccess(names: StoreNames = defaultStoreNames): Record<ServiceName, ServiceStoreAccess> {
  const { databases, redis, topics, groups } = names;
  return {
    gateway: {
      redis: {
        writeKeys: [`${redis.rateLimitPrefix}*`],
        channels: [`${redis.orderStatusChannelPrefix}*`, `${redis.pricePointsChannelPrefix}*`],
        scripts: true,
      },
    },
    users: { database: databases.users },
    listings: { database: databases.listings },
    stocks: {
      database: databases.stocks,
      redis: { readKeys: [`${redis.pricesKeyPrefix}*`] },
      kafka: { produce: [topics.stockListings] },
    },
    orders: {
      database: databases.orders,
      redis: { channels: [`${redis.orderStatusChannelPrefix}*`] },
      kafka: {
        // The orders service owns the status changes; the notifier reads them.
        produce: [topics.verificationRequests, topics.statusChanges],
        consume: [topics.verificationOutcomes, topics.prices, topics.stockListings],
        groups: [groups.orders, groups.ordersListings],
      },
    },
    'price-fetcher': {
      redis: { writeKeys: [`${redis.priceFetcherPrefix}*`] },
      kafka: {
        produce: [topics.prices],
        consume: [topics.stockListings],
        groups: [groups.priceFetcher],
        groupIsPrefix: true,
      },
    },
    'price-ingestor': {
      // With the default empty prefix (the bare-symbol contract) this is every key: see docs/security.md.
      // It announces new minute points from the same script that writes them.
      redis: {
        writeKeys: [`${redis.pricesKeyPrefix}*`],
        channels: [`${redis.pricePointsChannelPrefix}*`],
        scripts: true,
      },
      kafka: { consume: [topics.prices], groups: [groups.priceIngestor] },
    },
    // The notifications domain's database serves both its processes: the subgraph (endpoints)
    // and the notifier (deliveries), which connects to it as this same role.
    notifications: { database: databases.notifications },
    notifier: { kafka: { consume: [topics.statusChanges], groups: [groups.notifier] } },
    verifier: {
      kafka: {
        produce: [topics.verificationOutcomes],
        consume: [topics.verificationRequests],
        groups: [groups.verifier],
      },
    },
  };
}
