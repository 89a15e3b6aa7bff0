import { bootstrap } from '@brokerage/common';
import { usersConfigSchema } from './config';
import { start } from './server';

bootstrap('users', usersConfigSchema, start);
