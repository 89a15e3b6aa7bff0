import { bootstrap } from '@brokerage/common';
import { notificationsConfigSchema } from './config';
import { start } from './server';

bootstrap('notifications', notificationsConfigSchema, start);
