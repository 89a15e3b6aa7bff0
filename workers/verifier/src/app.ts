import { setMaxListeners } from 'node:events';
import {
  createKafka,
  createMetrics,
  decodeJson,
  ensureTopics,
  extractTraceContext,
  inSpan,
  consumerGaveUp,
  createInstrumentedConsumer,
  kafkaReadiness,
  OffsetTracker,
  SpanKind,
  startOpsServer,
  stopInOrder,
  ownedTopicConfig,
  waitForTopics,
  traceHeaders,
  type Logger,
} from '@brokerage/common';
import { verificationRequestSchema } from '@brokerage/orders-contract';
import { Partitioners, type KafkaMessage } from 'kafkajs';
import { Counter, Gauge } from 'prom-client';
import type { VerifierConfig } from './config';
import { OutcomePublisher } from './outcome-publisher';
import { VerificationClient } from './verification-client';

export interface VerifierApp {
  start(): Promise<{ url: string }>;
  stop(): Promise<void>;
  /** Settles if the Kafka consumer gives up for good: the process should then exit. */
  failed: Promise<Error>;
}

/**
 * Consumes verification requests and keeps thousands of calls to the slow verification API in
 * flight at once (never one at a time per partition). Each outcome is published to Kafka before
 * its request's offset may be committed, and offsets are committed only below the oldest call
 * still waiting: a crash mid-wait loses no request (it is read again) and the orders side applies
 * an outcome published twice only once.
 */
export function createApp(config: VerifierConfig, logger: Logger): VerifierApp {
  const metrics = createMetrics('verifier');
  const inFlightGauge = new Gauge({
    name: 'verifier_calls_in_flight',
    help: 'Calls to the verification API waiting for an answer',
    registers: [metrics.registry],
  });
  const outcomes = new Counter({
    name: 'verifier_outcomes_total',
    help: 'Verification outcomes published, by outcome',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
  const kafka = createKafka({
    clientId: 'verifier',
    brokers: config.KAFKA_BROKERS,
    security: config,
    logger,
  });
  const admin = kafka.admin();
  const consumer = createInstrumentedConsumer(kafka, {
    groupId: config.CONSUMER_GROUP,
    sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
    admin,
    topics: [config.VERIFICATION_REQUESTS_TOPIC],
    registry: metrics.registry,
  });
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const abort = new AbortController();
  // Every call in flight listens for the shutdown: thousands of listeners on purpose, not a leak.
  setMaxListeners(0, abort.signal);
  const client = new VerificationClient({
    baseUrl: config.VERIFICATION_API_URL,
    stallLimitMs: config.STALL_LIMIT_MS,
    maxConnections: config.MAX_IN_FLIGHT,
  });
  const publisher = new OutcomePublisher(producer, config.VERIFICATION_OUTCOMES_TOPIC, abort.signal, logger);
  const trackers = new Map<number, OffsetTracker>();
  const callsByOrder = new Map<string, Promise<boolean>>();
  const handlers = new Set<Promise<void>>();
  const topic = config.VERIFICATION_REQUESTS_TOPIC;
  let paused = false;
  let committer: NodeJS.Timeout | undefined;
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;

  const inFlight = () => [...trackers.values()].reduce((sum, tracker) => sum + tracker.inFlight, 0);

  /** Verifies one order and publishes the outcome; resolves true once the outcome is in Kafka. */
  async function verifyAndPublish(orderId: string, userId: string): Promise<boolean> {
    const calledAt = new Date().toISOString();
    const outcome = await client.verify(orderId, userId, abort.signal);
    const published = await publisher.publish(
      { orderId, outcome, calledAt, decidedAt: new Date().toISOString() },
      // The outcome continues the trace of the order that asked for it.
      traceHeaders(),
    );
    if (published) outcomes.inc({ outcome });
    return published;
  }

  async function handle(partition: number, message: KafkaMessage): Promise<void> {
    const tracker = trackers.get(partition)!;
    let request;
    try {
      request = decodeJson(verificationRequestSchema, message.value);
    } catch (error) {
      logger.error({ err: error, partition, offset: message.offset }, 'invalid verification request skipped');
      tracker.finish(message.offset);
      return;
    }
    // A request read again while its first call still waits (after a rebalance) shares that call.
    let call = callsByOrder.get(request.orderId);
    if (!call) {
      const { orderId, userId } = request;
      call = inSpan(
        'verifier',
        `verify order`,
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(message.headers), attributes: { orderId } },
        () => verifyAndPublish(orderId, userId),
      ).finally(() => callsByOrder.delete(orderId));
      callsByOrder.set(request.orderId, call);
    }
    try {
      // Only a published outcome frees the offset; an abandoned call (shutdown) leaves it pending.
      if (await call) tracker.finish(message.offset);
    } catch (error) {
      if (!abort.signal.aborted)
        logger.error({ err: error, orderId: request.orderId }, 'verification failed');
    }
  }

  async function commitFinished(): Promise<void> {
    for (const [partition, tracker] of trackers) {
      const offset = tracker.committable();
      if (offset === undefined) continue;
      try {
        await consumer.commitOffsets([{ topic, partition, offset }]);
        tracker.committed(offset);
      } catch (error) {
        // E.g. during a rebalance: the next round, or the next owner, commits it.
        logger.debug({ err: error, partition }, 'commit deferred');
      }
    }
  }

  function updateFlowControl(): void {
    const count = inFlight();
    inFlightGauge.set(count);
    if (!paused && count >= config.MAX_IN_FLIGHT) {
      paused = true;
      consumer.pause([{ topic }]);
      logger.warn({ inFlight: count }, 'at the in-flight limit; pausing consumption');
    } else if (paused && count < config.MAX_IN_FLIGHT * 0.9) {
      paused = false;
      consumer.resume([{ topic }]);
    }
  }

  return {
    failed: consumerGaveUp(consumer),
    async start() {
      // It owns the outcomes topic; the requests topic is the orders service's, which creates it.
      await ensureTopics(kafka, [ownedTopicConfig(config.VERIFICATION_OUTCOMES_TOPIC, config)]);
      await waitForTopics(kafka, [topic], { logger });
      await Promise.all([producer.connect(), consumer.connect(), admin.connect()]);
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          let tracker = trackers.get(batch.partition);
          if (!tracker) {
            tracker = new OffsetTracker();
            trackers.set(batch.partition, tracker);
          }
          for (const message of batch.messages) {
            if (abort.signal.aborted) break;
            tracker.begin(message.offset);
            const handler = handle(batch.partition, message).finally(() => {
              handlers.delete(handler);
              updateFlowControl();
            });
            handlers.add(handler);
          }
          // Moves the fetch position only; what is committed is decided by the trackers.
          payload.resolveOffset(batch.lastOffset());
          updateFlowControl();
          await payload.heartbeat();
        },
      });
      committer = setInterval(() => void commitFinished(), config.COMMIT_INTERVAL_MS);
      ops = await startOpsServer({
        port: config.PORT,
        host: config.HOST,
        logger,
        registry: metrics.registry,
        checks: { kafka: kafkaReadiness(admin) },
      });
      logger.info(
        { topic, stallLimitMs: config.STALL_LIMIT_MS, maxInFlight: config.MAX_IN_FLIGHT },
        'verifying',
      );
      return { url: ops.url };
    },

    async stop() {
      ops?.markDraining();
      clearInterval(committer);
      await stopInOrder(
        [
          // Stop reading, abandon the calls still waiting (their requests stay uncommitted and are
          // read again by whoever runs next), then commit what finished.
          ['kafka consumer', () => consumer.stop()],
          [
            'calls in flight',
            async () => {
              abort.abort();
              await Promise.allSettled([...handlers]);
            },
          ],
          ['final commit', () => commitFinished()],
          ['kafka consumer connection', () => consumer.disconnect()],
          ['kafka producer', () => producer.disconnect()],
          ['kafka admin', () => admin.disconnect()],
          ['verification API connections', () => client.close()],
          ['ops server', async () => ops?.stop()],
        ],
        logger,
      );
    },
  };
}
