import { bootstrap } from '@brokerage/service';
import { verificationApiConfigSchema } from './config';
import { randomDecisions, start } from './server';

bootstrap('verification-api', verificationApiConfigSchema, (config, logger) =>
  start({ port: config.PORT, host: config.HOST, decide: randomDecisions(config) }, logger),
);
