import type { WebhookDeliveryResolvers } from '../generated/resolvers-types';

export const WebhookDelivery: WebhookDeliveryResolvers = {
  order: ({ orderId }) => ({ id: orderId }),
};
