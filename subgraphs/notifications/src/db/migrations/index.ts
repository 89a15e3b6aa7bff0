import { CreateWebhooks1733300000000 } from './1733300000000-create-webhooks';

/** Every migration of the notifications database, oldest first. */
export const migrations = [CreateWebhooks1733300000000];
