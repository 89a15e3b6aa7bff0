import type { RequestContext } from '@brokerage/graphql';
import type { WebhooksRepository } from './db/webhooks-repository';
import type { AddressGuard } from './webhooks/address-guard';

export interface NotificationsContext extends RequestContext {
  webhooks: WebhooksRepository;
  guard: AddressGuard;
  maxWebhooksPerUser: number;
}
