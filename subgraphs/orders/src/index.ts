import { bootstrap } from '@brokerage/common';
import { ordersConfigSchema } from './config';
import { start } from './server';

bootstrap('orders', ordersConfigSchema, start);
