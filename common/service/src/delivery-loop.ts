import type { Logger } from './logger';

export interface DeliveryLoopOptions {
  /** One round: delivers up to `batchSize` rows and answers how many it delivered. */
  round(): Promise<number>;
  batchSize: number;
  /** How often a round runs when nobody says something was written. */
  pollMs: number;
  logger: Logger;
}

/**
 * When a transactional outbox's relay runs its delivery rounds: every `pollMs`, and at once when
 * told something was written; one round at a time (a notice during a round runs another right
 * after it), rounds back to back while they come back full, and a failed round logged and tried
 * again at the next notice or tick. What a round delivers and how is the relay's.
 */
export class DeliveryLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly options: DeliveryLoopOptions) {}

  start(): void {
    const tick = () => {
      if (this.stopped) return;
      this.notify();
      this.timer = setTimeout(tick, this.options.pollMs);
    };
    tick();
  }

  /** Something was written to the outbox: deliver it now rather than at the next poll. */
  notify(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.notify();
      }
    });
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.options.round()) === this.options.batchSize) {
        // A full batch: there may be more right behind it.
      }
    } catch (error) {
      this.options.logger.warn({ err: error }, 'outbox delivery failed; will retry');
    }
  }
}
