import { setMaxListeners } from 'node:events';
import { OffsetTracker } from '@brokerage/kafka';
import {
  decodeJson,
  extractTraceContext,
  inSpan,
  SpanKind,
  stopInOrder,
  traceHeaders,
  type Logger,
} from '@brokerage/service';
import { verificationRequestSchema } from '@brokerage/orders-contract';
import type { Consumer, KafkaMessage, Producer } from 'kafkajs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { VerifierConfig } from './config';
import { OutcomePublisher } from './outcome-publisher';
import type { VerificationClient } from './verification-client';

export interface VerificationConsumerOptions {
  consumer: Consumer;
  producer: Producer;
  client: VerificationClient;
  config: Pick<
    VerifierConfig,
    | 'VERIFICATION_REQUESTS_TOPIC'
    | 'VERIFICATION_OUTCOMES_TOPIC'
    | 'MAX_IN_FLIGHT'
    | 'COMMIT_INTERVAL_MS'
    | 'STALL_LIMIT_MS'
  >;
  logger: Logger;
  registry: Registry;
}

/**
 * Consumes verification requests and keeps thousands of calls to the slow verification API in
 * flight at once (never one at a time per partition). Each outcome is published to Kafka before
 * its request's offset may be committed, and offsets are committed only below the oldest call
 * still waiting: a crash mid-wait loses no request (it is read again) and the orders side applies
 * an outcome published twice only once.
 */
export class VerificationConsumer {
  private readonly abort = new AbortController();
  private readonly publisher: OutcomePublisher;
  private readonly inFlightGauge: Gauge;
  private readonly outcomes: Counter<'outcome'>;
  private readonly trackers = new Map<number, OffsetTracker>();
  private readonly callsByOrder = new Map<string, Promise<boolean>>();
  private readonly handlers = new Set<Promise<void>>();
  private readonly topic: string;
  private paused = false;
  private committer: NodeJS.Timeout | undefined;

  constructor(private readonly options: VerificationConsumerOptions) {
    const { config, registry } = options;
    this.topic = config.VERIFICATION_REQUESTS_TOPIC;
    // Every call in flight listens for the shutdown: thousands of listeners on purpose, not a leak.
    setMaxListeners(0, this.abort.signal);
    this.publisher = new OutcomePublisher(
      options.producer,
      config.VERIFICATION_OUTCOMES_TOPIC,
      this.abort.signal,
      options.logger,
    );
    this.inFlightGauge = new Gauge({
      name: 'verifier_calls_in_flight',
      help: 'Calls to the verification API waiting for an answer',
      registers: [registry],
    });
    this.outcomes = new Counter({
      name: 'verifier_outcomes_total',
      help: 'Verification outcomes published, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  async start(): Promise<void> {
    const { consumer, config, logger } = this.options;
    await consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        let tracker = this.trackers.get(batch.partition);
        if (!tracker) {
          tracker = new OffsetTracker();
          this.trackers.set(batch.partition, tracker);
        }
        for (const message of batch.messages) {
          if (this.abort.signal.aborted) break;
          tracker.begin(message.offset);
          const handler = this.handle(batch.partition, message).finally(() => {
            this.handlers.delete(handler);
            this.updateFlowControl();
          });
          this.handlers.add(handler);
        }
        // Moves the fetch position only; what is committed is decided by the trackers.
        payload.resolveOffset(batch.lastOffset());
        this.updateFlowControl();
        await payload.heartbeat();
      },
    });
    this.committer = setInterval(() => void this.commitFinished(), config.COMMIT_INTERVAL_MS);
    logger.info(
      { topic: this.topic, stallLimitMs: config.STALL_LIMIT_MS, maxInFlight: config.MAX_IN_FLIGHT },
      'verifying',
    );
  }

  /**
   * Stops reading, abandons the calls still waiting (their requests stay uncommitted and are read
   * again by whoever runs next), then commits what finished.
   */
  stop(): Promise<void> {
    clearInterval(this.committer);
    return stopInOrder(
      [
        ['kafka consumer', () => this.options.consumer.stop()],
        [
          'calls in flight',
          async () => {
            this.abort.abort();
            await Promise.allSettled([...this.handlers]);
          },
        ],
        ['final commit', () => this.commitFinished()],
      ],
      this.options.logger,
    );
  }

  /** Verifies one order and publishes the outcome; resolves true once the outcome is in Kafka. */
  private async verifyAndPublish(orderId: string, userId: string): Promise<boolean> {
    const calledAt = new Date().toISOString();
    const outcome = await this.options.client.verify(orderId, userId, this.abort.signal);
    const published = await this.publisher.publish(
      { orderId, outcome, calledAt, decidedAt: new Date().toISOString() },
      // The outcome continues the trace of the order that asked for it.
      traceHeaders(),
    );
    if (published) this.outcomes.inc({ outcome });
    return published;
  }

  private async handle(partition: number, message: KafkaMessage): Promise<void> {
    const { logger } = this.options;
    const tracker = this.trackers.get(partition)!;
    let request;
    try {
      request = decodeJson(verificationRequestSchema, message.value);
    } catch (error) {
      logger.error({ err: error, partition, offset: message.offset }, 'invalid verification request skipped');
      tracker.finish(message.offset);
      return;
    }
    // A request read again while its first call still waits (after a rebalance) shares that call.
    let call = this.callsByOrder.get(request.orderId);
    if (!call) {
      const { orderId, userId } = request;
      call = inSpan(
        'verifier',
        `verify order`,
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(message.headers), attributes: { orderId } },
        () => this.verifyAndPublish(orderId, userId),
      ).finally(() => this.callsByOrder.delete(orderId));
      this.callsByOrder.set(request.orderId, call);
    }
    try {
      // Only a published outcome frees the offset; an abandoned call (shutdown) leaves it pending.
      if (await call) tracker.finish(message.offset);
    } catch (error) {
      if (!this.abort.signal.aborted)
        logger.error({ err: error, orderId: request.orderId }, 'verification failed');
    }
  }

  private async commitFinished(): Promise<void> {
    for (const [partition, tracker] of this.trackers) {
      const offset = tracker.committable();
      if (offset === undefined) continue;
      try {
        await this.options.consumer.commitOffsets([{ topic: this.topic, partition, offset }]);
        tracker.committed(offset);
      } catch (error) {
        // E.g. during a rebalance: the next round, or the next owner, commits it.
        this.options.logger.debug({ err: error, partition }, 'commit deferred');
      }
    }
  }

  private updateFlowControl(): void {
    const { consumer, config, logger } = this.options;
    const count = [...this.trackers.values()].reduce((sum, tracker) => sum + tracker.inFlight, 0);
    this.inFlightGauge.set(count);
    if (!this.paused && count >= config.MAX_IN_FLIGHT) {
      this.paused = true;
      consumer.pause([{ topic: this.topic }]);
      logger.warn({ inFlight: count }, 'at the in-flight limit; pausing consumption');
    } else if (this.paused && count < config.MAX_IN_FLIGHT * 0.9) {
      this.paused = false;
      consumer.resume([{ topic: this.topic }]);
    }
  }
}
