import { consumerGaveUp, createInstrumentedConsumer, waitForTopics } from '@brokerage/kafka';
import { closeRedis, createRedis, redisReadiness } from '@brokerage/redis';
import { stopInOrder, type Logger } from '@brokerage/service';
import { createWorkerApp, type WorkerApp } from '@brokerage/worker';
import type { PriceIngestorConfig } from './config';
import { MinuteSeriesStore } from './minute-series-store';
import { QuoteIngestion } from './quote-ingestion';

export type PriceIngestorApp = WorkerApp;

/** The price ingestor: quotes from Kafka into the minute series in Redis (QuoteIngestion). */
export function createApp(config: PriceIngestorConfig, logger: Logger): PriceIngestorApp {
  return createWorkerApp({
    name: 'price-ingestor',
    config,
    logger,
    parts: ({ kafka, registry }) => {
      const topic = config.PRICES_TOPIC;
      const admin = kafka.admin();
      const consumer = createInstrumentedConsumer(kafka, {
        groupId: config.CONSUMER_GROUP,
        sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
        heartbeatInterval: 3_000,
        admin,
        topics: [topic],
        registry,
      });
      const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.PRICES_KEY_PREFIX, logger });
      const store = new MinuteSeriesStore(redis, {
        pointsChannelPrefix: config.PRICE_POINTS_CHANNEL_PREFIX || undefined,
      });
      const ingestion = new QuoteIngestion({ consumer, store, config, logger, registry });
      return [
        { name: 'redis', stop: () => closeRedis(redis), ready: { redis: redisReadiness(redis) } },
        {
          name: 'kafka connections',
          // Independent round trips, side by side; the subscription needs the topic to exist. It
          // does but on a first deployment, so one metadata request on the admin client (connected
          // anyway, for the lag metric) checks; waitForTopics' own client (a connection and three
          // requests more) only runs, until the price fetcher (the topic's owner) has created it,
          // when it is missing.
          start: async () => {
            const [, topicExists] = await Promise.all([
              consumer.connect(),
              admin.connect().then(async () => (await admin.listTopics()).includes(topic)),
            ]);
            if (!topicExists) await waitForTopics(kafka, [topic], { logger });
          },
          stop: () =>
            stopInOrder(
              [
                ['kafka consumer', () => consumer.disconnect()],
                ['kafka admin', () => admin.disconnect()],
              ],
              logger,
            ),
        },
        {
          name: 'ingestion',
          failed: consumerGaveUp(consumer),
          start: () => ingestion.start(),
          stop: () => ingestion.stop(),
        },
      ];
    },
  });
}
