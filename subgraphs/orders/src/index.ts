import { bootstrap } from '@brokerage/service';
import { ordersConfigSchema } from './config';
import { start } from './server';

bootstrap('orders', ordersConfigSchema, start);
