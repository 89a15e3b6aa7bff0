import { bootstrap } from '@brokerage/service';
import { createApp } from './app';
import { verifierConfigSchema } from './config';

bootstrap('verifier', verifierConfigSchema, async (config, logger) => {
  const app = createApp(config, logger);
  await app.start();
  return app;
});
