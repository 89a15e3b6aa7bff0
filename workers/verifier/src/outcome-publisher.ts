import { encodeJson, type Logger } from '@brokerage/service';
import { type VerificationOutcome } from '@brokerage/verifier-contract';
import type { Producer } from 'kafkajs';

/**
 * Publishes outcomes in small batches: thousands of calls can end in the same instant (all of
 * them stalling together), and an idempotent producer sends one request at a time, so one request
 * per outcome would queue them for seconds. Each `publish` resolves true once its outcome is
 * acknowledged, or false if the verifier is shutting down first.
 */
export class OutcomePublisher {
  private queue: Array<{
    outcome: VerificationOutcome;
    headers: Record<string, string>;
    done: (published: boolean) => void;
  }> = [];
  private sending: Promise<void> | undefined;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly shutdown: AbortSignal,
    private readonly logger: Logger,
    private readonly maxBatch = 1_000,
  ) {}

  publish(outcome: VerificationOutcome, headers: Record<string, string> = {}): Promise<boolean> {
    return new Promise((done) => {
      this.queue.push({ outcome, headers, done });
      this.sending ??= this.drain().finally(() => (this.sending = undefined));
    });
  }

  private async drain(): Promise<void> {
    // Let the outcomes decided in the same tick join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 0; this.queue.length > 0;) {
      const batch = this.queue.slice(0, this.maxBatch);
      try {
        await this.producer.send({
          topic: this.topic,
          acks: -1,
          messages: batch.map(({ outcome, headers }) => ({
            key: outcome.orderId,
            value: encodeJson(outcome),
            headers,
          })),
        });
        this.queue = this.queue.slice(batch.length);
        for (const { done } of batch) done(true);
        attempt = 0;
      } catch (error) {
        if (this.shutdown.aborted) {
          for (const { done } of this.queue) done(false);
          this.queue = [];
          return;
        }
        attempt += 1;
        this.logger.warn(
          { err: error, attempt, waiting: this.queue.length },
          'could not publish outcomes; retrying',
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** attempt, 10_000)));
      }
    }
  }
}
