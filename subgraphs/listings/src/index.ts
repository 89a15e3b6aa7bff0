import { bootstrap } from '@brokerage/service';
import { listingsConfigSchema } from './config';
import { start } from './server';

bootstrap('listings', listingsConfigSchema, start);
