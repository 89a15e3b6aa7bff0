import { bootstrap } from '@brokerage/common';
import { createApp } from './app';
import { priceFetcherConfigSchema } from './config';

bootstrap('price-fetcher', priceFetcherConfigSchema, async (config, logger) => {
  const app = createApp(config, logger);
  await app.start();
  return app;
});
