import { bootstrap } from '@brokerage/common';
import { listingsConfigSchema } from './config';
import { start } from './server';

bootstrap('listings', listingsConfigSchema, start);
