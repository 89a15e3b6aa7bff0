import { bootstrap } from '@brokerage/service';
import { createApp } from './app';
import { notifierConfigSchema } from './config';

bootstrap('notifier', notifierConfigSchema, async (config, logger) => {
  const app = createApp(config, logger);
  await app.start();
  return app;
});
