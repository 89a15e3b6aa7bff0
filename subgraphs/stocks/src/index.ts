import { bootstrap } from '@brokerage/common';
import { stocksConfigSchema } from './config';
import { start } from './server';

bootstrap('stocks', stocksConfigSchema, start);
