import { setMaxListeners } from 'node:events';
import type { Logger } from '@brokerage/service';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ClaimedDelivery, DeliveriesRepository } from '../db/deliveries-repository';
import { nextAttemptAt, type RetryPolicy } from './backoff';
import type { WebhookSender } from './webhook-sender';

export interface DeliveryLoopOptions {
  deliveries: DeliveriesRepository;
  sender: WebhookSender;
  retry: RetryPolicy;
  timeoutMs: number;
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
  pollMs: number;
  logger: Logger;
  registry: Registry;
}

/**
 * Makes the deliveries: claims what is due (in order per order, a bounded number per endpoint),
 * and sends each without waiting for it, so that a slow or dead endpoint holds only its own
 * slots while everyone else's deliveries go on. Each result is written back: delivered, or tried
 * again after a backoff, or given up. A claim is a lease: if this process dies mid-attempt, the
 * delivery is due again once the lease ends, for this process after a restart or for another.
 */
export class DeliveryLoop {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly shutdown = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private claiming: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly attempts: Counter<'result'>;
  private readonly seconds: Histogram;

  constructor(private readonly options: DeliveryLoopOptions) {
    // Every attempt in flight listens for the shutdown: many listeners on purpose, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    const { registry, deliveries } = options;
    this.attempts = new Counter({
      name: 'notifier_webhook_attempts_total',
      help: 'Webhook delivery attempts, by result: delivered, retry (failed, tried again) or gave_up',
      labelNames: ['result'],
      registers: [registry],
    });
    this.seconds = new Histogram({
      name: 'notifier_webhook_attempt_seconds',
      help: 'Time from sending a webhook to its answer (or the timeout)',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    const inFlight = this.inFlight;
    new Gauge({
      name: 'notifier_webhook_attempts_in_flight',
      help: 'Webhook attempts of this process waiting for an answer',
      registers: [registry],
      collect(this: Gauge) {
        this.set(inFlight.size);
      },
    });
    const pending = new Gauge({
      name: 'notifier_webhook_deliveries_pending',
      help: 'Deliveries not yet made or given up',
      registers: [registry],
    });
    new Gauge({
      name: 'notifier_webhook_oldest_pending_seconds',
      help: 'Age of the oldest pending delivery',
      registers: [registry],
      async collect(this: Gauge) {
        const backlog = await deliveries.backlog().catch(() => undefined);
        if (!backlog) return;
        pending.set(backlog.pending);
        this.set(backlog.oldestSeconds);
      },
    });
  }

  start(): void {
    const tick = () => {
      this.notify();
      if (!this.stopped) this.timer = setTimeout(tick, this.options.pollMs);
    };
    tick();
  }

  /** Looks for due deliveries now (new events were written, or an attempt freed a slot). */
  notify(): void {
    if (this.stopped) return;
    if (this.claiming) {
      this.again = true;
      return;
    }
    this.claiming = this.claimRounds()
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'claiming deliveries failed'))
      .finally(() => {
        this.claiming = undefined;
        if (this.again) {
          this.again = false;
          this.notify();
        }
      });
  }

  private async claimRounds(): Promise<void> {
    const { deliveries, maxInFlight, maxInFlightPerEndpoint, timeoutMs } = this.options;
    while (!this.stopped) {
      const free = maxInFlight - this.inFlight.size;
      if (free <= 0) return;
      // The lease outlives the attempt's timeout, and the writing of its result.
      const claimed = await deliveries.claim(free, maxInFlightPerEndpoint, timeoutMs + 5_000);
      for (const delivery of claimed) {
        const attempt = this.attempt(delivery).finally(() => {
          this.inFlight.delete(attempt);
          this.notify();
        });
        this.inFlight.add(attempt);
      }
      if (claimed.length < free) return;
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const { deliveries, sender, retry, logger } = this.options;
    const started = process.hrtime.bigint();
    const outcome = await sender.send(delivery, this.shutdown.signal);
    this.seconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    try {
      if (outcome.delivered) {
        await deliveries.delivered(delivery.id, outcome.responseCode);
        this.attempts.inc({ result: 'delivered' });
        return;
      }
      // Cut short by the shutdown: not a verdict on the endpoint; the lease runs out and it is tried again.
      if (this.shutdown.signal.aborted) return;
      const retryAt = nextAttemptAt(retry, delivery.attempt, delivery.createdAt);
      await deliveries.failed(delivery.id, outcome, retryAt);
      this.attempts.inc({ result: retryAt ? 'retry' : 'gave_up' });
      logger[retryAt ? 'debug' : 'warn'](
        {
          deliveryId: delivery.id,
          endpointId: delivery.endpointId,
          attempt: delivery.attempt,
          responseCode: outcome.responseCode,
          error: outcome.error,
          retryAt,
        },
        retryAt ? 'webhook attempt failed; retrying later' : 'webhook given up',
      );
    } catch (error) {
      // The result could not be written: the lease runs out and the delivery is tried again.
      logger.error({ err: error, deliveryId: delivery.id }, 'recording a webhook attempt failed');
    }
  }

  /**
   * Claims no more, and lets the attempts under way finish (each ends by its timeout); with
   * `abandon`, cuts them short instead: their leases run out and they are tried again later.
   */
  async stop(abandon = false): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.claiming;
    if (abandon) this.shutdown.abort();
    await Promise.allSettled([...this.inFlight]);
  }
}
