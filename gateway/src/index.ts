import { bootstrap } from '@brokerage/service';
import { gatewayConfigSchema } from './config';
import { start } from './server';

bootstrap('gateway', gatewayConfigSchema, start);
