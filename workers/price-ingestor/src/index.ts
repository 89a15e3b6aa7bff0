import { bootstrap } from '@brokerage/service';
import { createApp } from './app';
import { priceIngestorConfigSchema } from './config';

bootstrap('price-ingestor', priceIngestorConfigSchema, async (config, logger) => {
  const app = createApp(config, logger);
  await app.start();
  return app;
});
