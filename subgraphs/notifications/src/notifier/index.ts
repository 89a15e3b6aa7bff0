import { bootstrap } from '@brokerage/common';
import { createApp } from './app';
import { notifierConfigSchema } from './config';

bootstrap('notifier', notifierConfigSchema, async (config, logger) => {
  const app = createApp(config, logger);
  await app.start();
  return app;
});
