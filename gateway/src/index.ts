import { bootstrap } from '@brokerage/common';
import { gatewayConfigSchema } from './config';
import { start } from './server';

bootstrap('gateway', gatewayConfigSchema, start);
