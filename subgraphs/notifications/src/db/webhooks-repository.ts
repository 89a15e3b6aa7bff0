import type { DataSource } from 'typeorm';
import type { WebhookEventName } from '../webhooks/events';
import type { DeliveryRecord, DeliveryStatus, WebhookRecord } from './records';

/** Thrown when a user already has as many endpoints as allowed. */
export class WebhookLimitError extends Error {}

interface WebhookRow {
  id: string;
  user_id: string;
  url: string;
  events: WebhookEventName[];
  created_at: Date;
}

interface DeliveryRow {
  id: string;
  endpoint_id: string;
  url: string;
  user_id: string;
  event_id: string;
  event: WebhookEventName;
  order_id: string;
  status: DeliveryStatus;
  attempts: number;
  last_response_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  finished_at: Date | null;
}

const webhook = (row: WebhookRow): WebhookRecord => ({
  id: row.id,
  userId: row.user_id,
  url: row.url,
  events: row.events,
  createdAt: row.created_at,
});

const delivery = (row: DeliveryRow): DeliveryRecord => ({
  id: row.id,
  webhookId: row.endpoint_id,
  url: row.url,
  userId: row.user_id,
  eventId: row.event_id,
  event: row.event,
  orderId: row.order_id,
  status: row.status,
  attempts: row.attempts,
  lastResponseCode: row.last_response_code,
  lastError: row.last_error,
  nextAttemptAt: row.status === 'PENDING' ? row.next_attempt_at : null,
  createdAt: row.created_at,
  finishedAt: row.finished_at,
});

const WEBHOOK_COLUMNS = 'id, user_id, url, events, created_at';

/** The subgraph's access to endpoints, and to the deliveries their owners read. */
export class WebhooksRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Adds an endpoint unless the user already has `limit` of them (checked under a per-user lock). */
  async add(
    userId: string,
    url: string,
    events: readonly WebhookEventName[],
    secret: string,
    limit: number,
  ): Promise<WebhookRecord> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(22, hashtext($1::text))', [userId]);
      const [{ count }] = await manager.query<[{ count: number }]>(
        'SELECT count(*)::int AS count FROM webhook_endpoints WHERE user_id = $1 AND removed_at IS NULL',
        [userId],
      );
      if (count >= limit) throw new WebhookLimitError(`at most ${limit} webhooks per user`);
      const [row] = await manager.query<[WebhookRow]>(
        `INSERT INTO webhook_endpoints (user_id, url, events, secret) VALUES ($1, $2, $3, $4)
         RETURNING ${WEBHOOK_COLUMNS}`,
        [userId, url, events, secret],
      );
      return webhook(row);
    });
  }

  async of(userId: string): Promise<WebhookRecord[]> {
    const rows = await this.dataSource.query<WebhookRow[]>(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE user_id = $1 AND removed_at IS NULL ORDER BY id`,
      [userId],
    );
    return rows.map(webhook);
  }

  async find(id: string): Promise<WebhookRecord | null> {
    const [row] = await this.dataSource.query<WebhookRow[]>(
      `SELECT ${WEBHOOK_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND removed_at IS NULL`,
      [id],
    );
    return row ? webhook(row) : null;
  }

  /**
   * Removes an endpoint: no new deliveries are made to it, and those still pending are cancelled,
   * in one transaction. Past deliveries stay readable. Null when it is not there (or not the user's).
   */
  async remove(userId: string, id: string): Promise<WebhookRecord | null> {
    return this.dataSource.transaction(async (manager) => {
      const [rows] = await manager.query<[WebhookRow[], number]>(
        `UPDATE webhook_endpoints SET removed_at = now()
         WHERE id = $1 AND user_id = $2 AND removed_at IS NULL RETURNING ${WEBHOOK_COLUMNS}`,
        [id, userId],
      );
      const row = rows[0];
      if (!row) return null;
      await manager.query(
        `UPDATE webhook_deliveries SET status = 'CANCELLED', finished_at = now(), leased_until = NULL,
                last_error = 'the webhook was removed'
         WHERE endpoint_id = $1 AND status = 'PENDING'`,
        [id],
      );
      return webhook(row);
    });
  }

  /** A user's deliveries, newest first, optionally of one status. */
  async deliveriesOf(userId: string, limit: number, status?: DeliveryStatus): Promise<DeliveryRecord[]> {
    const rows = await this.dataSource.query<DeliveryRow[]>(
      `SELECT d.id, d.endpoint_id, e.url, d.user_id, d.event_id, d.event, d.order_id, d.status, d.attempts,
              d.last_response_code, d.last_error, d.next_attempt_at, d.created_at, d.finished_at
       FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.user_id = $1 AND ($2::text IS NULL OR d.status = $2)
       ORDER BY d.id DESC LIMIT $3`,
      [userId, status ?? null, limit],
    );
    return rows.map(delivery);
  }
}
