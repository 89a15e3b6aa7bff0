import { createKafka } from '@brokerage/kafka';
import { createLogger, loadConfig } from '@brokerage/service';
import { priceIngestorConfigSchema } from '../workers/price-ingestor/src/config';
import { rewindIngestors } from '../workers/price-ingestor/src/rewind';

// `npm run rebuild-prices`: after Redis lost the price series, moves the price ingestors' consumer
// group back to the start of the prices topic; start the ingestors again and they rebuild every
// series the topic still holds (docs/operations.md, "Redis"). Reads the ingestor's settings
// (KAFKA_BROKERS, PRICES_TOPIC, CONSUMER_GROUP, KAFKA_SASL_*). Stop the ingestors first.

const logger = createLogger({ service: 'rebuild-prices' });

async function main(): Promise<void> {
  const config = loadConfig(priceIngestorConfigSchema, process.env);
  const kafka = createKafka({
    clientId: 'rebuild-prices',
    brokers: config.KAFKA_BROKERS,
    security: config,
    logger,
  });
  await rewindIngestors(kafka, config.CONSUMER_GROUP, config.PRICES_TOPIC);
  logger.info(
    { group: config.CONSUMER_GROUP, topic: config.PRICES_TOPIC },
    'the ingestors will read the prices topic from its start: start them again',
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    logger.error({ err: error }, 'rebuild failed');
    process.exit(1);
  },
);
