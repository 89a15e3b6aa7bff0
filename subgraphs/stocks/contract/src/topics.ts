/** The stocks service's Kafka topic: it alone creates and writes it (keyed by stock id). */
export const StocksTopics = {
  /** Announcements of stocks listed and delisted, written through the stocks service's outbox. */
  stockListings: 'stocks.listings',
} as const;

/**
 * The listings topic is compacted: the latest announcement of every stock stays, whatever its
 * age, so a follower rebuilds the whole list from it. Whoever creates the topic (the stocks
 * service, or an administrator's provisioning) creates it with these settings.
 */
export const STOCK_LISTINGS_TOPIC_SETTINGS = [{ name: 'cleanup.policy', value: 'compact' }];
