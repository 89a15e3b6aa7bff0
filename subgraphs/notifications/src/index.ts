import { bootstrap } from '@brokerage/service';
import { notificationsConfigSchema } from './config';
import { start } from './server';

bootstrap('notifications', notificationsConfigSchema, start);
