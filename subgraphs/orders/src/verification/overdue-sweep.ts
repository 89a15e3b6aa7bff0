import type { Logger } from '@brokerage/service';
import { Counter, type Registry } from 'prom-client';
import type { OrderTransitions } from '../db/order-transitions';

/**
 * Keeps orders out of limbo: every `intervalMs`, IN_PROGRESS orders whose verification outcome is
 * overdue are asked for again, or failed with what they reserved given back once `retries` are
 * spent (see `OrderTransitions.overdueVerifications`). So no order stays IN_PROGRESS longer than
 * (retries + 1) x the verification deadline, plus one interval.
 */
export class OverdueSweep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly swept: Counter<'action'>;

  constructor(
    private readonly transitions: OrderTransitions,
    private readonly retries: number,
    private readonly intervalMs: number,
    private readonly onOutboxWrite: () => void,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    this.swept = new Counter({
      name: 'orders_overdue_verifications_total',
      help: 'IN_PROGRESS orders whose verification outcome was overdue, by what was done',
      labelNames: ['action'],
      registers: [registry],
    });
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  private async sweep(): Promise<void> {
    try {
      for (;;) {
        const { askedAgain, failed } = await this.transitions.overdueVerifications(this.retries);
        if (askedAgain.length + failed.length === 0) return;
        this.swept.inc({ action: 'asked_again' }, askedAgain.length);
        this.swept.inc({ action: 'failed' }, failed.length);
        this.logger.warn(
          { askedAgain: askedAgain.map(({ id }) => id), failed: failed.map(({ id }) => id) },
          'verification outcomes overdue',
        );
        this.onOutboxWrite();
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'overdue verification sweep failed; will retry');
    }
  }
}
