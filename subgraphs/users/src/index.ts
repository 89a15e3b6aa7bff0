import { bootstrap } from '@brokerage/service';
import { usersConfigSchema } from './config';
import { start } from './server';

bootstrap('users', usersConfigSchema, start);
