import { codedError } from '@brokerage/service';

/** The stable `extensions.code` values of the notifications subgraph. */
export const NotificationsErrorCode = {
  /** The URL may not be called (scheme, credentials, private address, no DNS); `reason` says which. */
  WEBHOOK_URL_REFUSED: 'WEBHOOK_URL_REFUSED',
  WEBHOOK_LIMIT_REACHED: 'WEBHOOK_LIMIT_REACHED',
  WEBHOOK_NOT_FOUND: 'WEBHOOK_NOT_FOUND',
} as const;

export function webhookNotFound(id: string) {
  return codedError(NotificationsErrorCode.WEBHOOK_NOT_FOUND, `You have no webhook ${id}`, { field: 'id' });
}
