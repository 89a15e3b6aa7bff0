import { bootstrap } from '@brokerage/service';
import { createApp } from './app';
import { priceFetcherConfigSchema } from './config';

bootstrap('price-fetcher', priceFetcherConfigSchema, async (config, logger) => {
  const app = createApp(config, logger);
  await app.start();
  return app;
});
