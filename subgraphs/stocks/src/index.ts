import { bootstrap } from '@brokerage/service';
import { stocksConfigSchema } from './config';
import { start } from './server';

bootstrap('stocks', stocksConfigSchema, start);
