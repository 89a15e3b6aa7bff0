/** The price fetcher's Kafka topic: it alone creates and writes it (keyed by stock id). */
export const PriceFetcherTopics = {
  /** Every trade of the listed stocks, and the exchange's cancellations of trades. */
  priceQuotes: 'prices.quotes',
} as const;
