import type { WebhookEventName } from '../webhooks/events';

export interface WebhookRecord {
  id: string;
  userId: string;
  url: string;
  events: WebhookEventName[];
  createdAt: Date;
}

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'FAILED' | 'CANCELLED';

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  url: string;
  userId: string;
  eventId: string;
  event: WebhookEventName;
  orderId: string;
  status: DeliveryStatus;
  attempts: number;
  lastResponseCode: number | null;
  lastError: string | null;
  /** When the next attempt is due; null once the delivery is finished. */
  nextAttemptAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
}

/** The parent of a field of another subgraph's entity (`User`, `Order`): its key. */
export interface EntityReference {
  id: string;
}
