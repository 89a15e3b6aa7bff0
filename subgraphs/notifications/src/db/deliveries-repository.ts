import type { DataSource } from 'typeorm';
import type { WebhookEventName } from '../webhooks/events';

/** One order status change to deliver to every endpoint of its user that subscribed to it. */
export interface EventToDeliver {
  eventId: string;
  event: WebhookEventName;
  userId: string;
  orderId: string;
  /** When the change happened: orders the deliveries of one order. */
  at: string;
  body: string;
}

/** A delivery handed to this process for one attempt, until `leasedUntil`. */
export interface ClaimedDelivery {
  id: string;
  endpointId: string;
  url: string;
  secret: string;
  eventId: string;
  body: string;
  /** This attempt's number, from 1. */
  attempt: number;
  createdAt: Date;
}

export interface AttemptResult {
  responseCode: number | null;
  error: string | null;
}

/** The key of the lock that makes claims of every notifier replica take turns. */
const CLAIM_LOCK = 2_200_000_001;

/** The notifier's access to deliveries. */
export class DeliveriesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Writes a delivery for each event and each of its user's live endpoints that subscribed to it,
   * in one statement; an event written before (read again from Kafka) adds nothing.
   */
  async enqueue(events: readonly EventToDeliver[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO webhook_deliveries (endpoint_id, user_id, event_id, event, order_id, event_at, body)
       SELECT e.id, v.user_id, v.event_id, v.event, v.order_id, v.at, v.body
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::timestamptz[], $6::text[])
              AS v(event_id, event, user_id, order_id, at, body)
       JOIN webhook_endpoints e ON e.user_id = v.user_id AND e.removed_at IS NULL AND v.event = ANY(e.events)
       ON CONFLICT (event_id, endpoint_id) DO NOTHING
       RETURNING id`,
      [
        events.map((event) => event.eventId),
        events.map((event) => event.event),
        events.map((event) => event.userId),
        events.map((event) => event.orderId),
        events.map((event) => event.at),
        events.map((event) => event.body),
      ],
    );
    return rows.length;
  }

  /**
   * Leases up to `limit` due deliveries for one attempt each (counted now, so that an attempt a
   * crash cut short still counts). A delivery is due when its time has come, nobody holds it,
   * no earlier event of the same order to the same endpoint is still pending (in order per
   * order), and its endpoint has fewer than `perEndpoint` attempts under way across every
   * replica (a dead endpoint ties up at most that many). Claims of all replicas take turns.
   */
  async claim(limit: number, perEndpoint: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [CLAIM_LOCK]);
      const [rows] = await manager.query<
        [
          Array<{
            id: string;
            endpoint_id: string;
            url: string;
            secret: string;
            event_id: string;
            body: string;
            attempts: number;
            created_at: Date;
          }>,
          number,
        ]
      >(
        `WITH busy AS (
           SELECT endpoint_id, count(*) AS leased FROM webhook_deliveries
           WHERE status = 'PENDING' AND leased_until IS NOT NULL AND leased_until > now()
           GROUP BY endpoint_id
         ),
         due AS (
           SELECT d.id, d.endpoint_id,
                  row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rank
           FROM webhook_deliveries d
           WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
             AND (d.leased_until IS NULL OR d.leased_until <= now())
             AND NOT EXISTS (
               SELECT 1 FROM webhook_deliveries p
               WHERE p.endpoint_id = d.endpoint_id AND p.order_id = d.order_id AND p.status = 'PENDING'
                 AND (p.event_at, p.id) < (d.event_at, d.id))
         ),
         chosen AS (
           SELECT due.id FROM due LEFT JOIN busy USING (endpoint_id)
           WHERE due.rank <= $2 - coalesce(busy.leased, 0)
           ORDER BY due.rank, due.id
           LIMIT $1
         )
         UPDATE webhook_deliveries d
         SET leased_until = now() + $3 * interval '1 millisecond', attempts = d.attempts + 1
         FROM webhook_endpoints e
         WHERE d.id IN (SELECT id FROM chosen) AND e.id = d.endpoint_id
         RETURNING d.id, d.endpoint_id, e.url, e.secret, d.event_id, d.body, d.attempts, d.created_at`,
        [limit, perEndpoint, leaseMs],
      );
      return rows.map((row) => ({
        id: row.id,
        endpointId: row.endpoint_id,
        url: row.url,
        secret: row.secret,
        eventId: row.event_id,
        body: row.body,
        attempt: row.attempts,
        createdAt: row.created_at,
      }));
    });
  }

  async delivered(id: string, responseCode: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries
       SET status = 'DELIVERED', last_response_code = $2, last_error = NULL, leased_until = NULL, finished_at = now()
       WHERE id = $1 AND status = 'PENDING'`,
      [id, responseCode],
    );
  }

  /** A failed attempt: tried again at `retryAt`, or, when that is null, given up (FAILED). */
  async failed(id: string, { responseCode, error }: AttemptResult, retryAt: Date | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries
       SET last_response_code = $2, last_error = $3, leased_until = NULL,
           status = CASE WHEN $4::timestamptz IS NULL THEN 'FAILED' ELSE 'PENDING' END,
           next_attempt_at = coalesce($4::timestamptz, next_attempt_at),
           finished_at = CASE WHEN $4::timestamptz IS NULL THEN now() END
       WHERE id = $1 AND status = 'PENDING'`,
      [id, responseCode, error?.slice(0, 500) ?? null, retryAt],
    );
  }

  /** Pending deliveries and the age of the oldest, for the metrics. */
  async backlog(): Promise<{ pending: number; oldestSeconds: number }> {
    const [row] = await this.dataSource.query<[{ pending: number; oldest: number }]>(
      `SELECT count(*)::int AS pending,
              coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
       FROM webhook_deliveries WHERE status = 'PENDING'`,
    );
    return { pending: row.pending, oldestSeconds: row.oldest };
  }
}
