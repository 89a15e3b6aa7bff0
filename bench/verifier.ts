import { readFileSync } from 'node:fs';
import { createKafka, ensureTopics } from '@brokerage/kafka';
import { createLogger, decodeJson, encodeJson } from '@brokerage/service';
import { type VerificationRequest } from '@brokerage/orders-contract';
import { verificationOutcomeSchema } from '@brokerage/verifier-contract';
import { start as startVerificationApi } from '../workers/verification-api/src/server';
import { ensureKafka, percentile, quick, report, runStandalone, spawnBenchService } from './support';

// Scenario: 10,000 verification requests at once, against an API that never answers in time.
// One verifier process must hold all 10,000 calls in flight and abandon each at the stall limit:
// target, every call answered (STALLED) within the stall limit plus at most 1%. Also its peak memory.

const REQUESTS = Number(process.env.BENCH_VERIFICATIONS ?? (quick ? 500 : 10_000));
const STALL_LIMIT_MS = Number(process.env.BENCH_STALL_LIMIT_MS ?? (quick ? 2_000 : 10_000));
const logger = createLogger({ service: 'bench', level: 'silent' });

/** Peak resident memory of a process (Linux VmHWM), in MB. */
function peakRssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmHWM:'));
  return Number(line?.split(/\s+/)[1] ?? 0) / 1024;
}

export async function run() {
  const brokers = await ensureKafka();
  const suffix = Date.now().toString(36);
  const topics = {
    requests: `bench.${suffix}.verification-requests`,
    outcomes: `bench.${suffix}.verification-outcomes`,
  };
  const kafka = createKafka({ clientId: 'bench', brokers, logger });
  await ensureTopics(kafka, [
    { topic: topics.requests, numPartitions: 3, replicationFactor: 1 },
    { topic: topics.outcomes, numPartitions: 3, replicationFactor: 1 },
  ]);
  // Calls arrive at the stand-in when the verifier starts them; it answers long after the limit.
  const callStartedAt = new Map<string, number>();
  const api = await startVerificationApi(
    {
      port: 0,
      host: '127.0.0.1',
      decide: ({ orderId }) => {
        callStartedAt.set(orderId, Date.now());
        return { delayMs: STALL_LIMIT_MS * 10, verified: true };
      },
    },
    logger,
  );
  const verifier = await spawnBenchService('workers/verifier/src/index.ts', {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: brokers.join(','),
    VERIFICATION_REQUESTS_TOPIC: topics.requests,
    VERIFICATION_OUTCOMES_TOPIC: topics.outcomes,
    CONSUMER_GROUP: `bench-verifier-${suffix}`,
    VERIFICATION_API_URL: api.url,
    STALL_LIMIT_MS: String(STALL_LIMIT_MS),
    MAX_IN_FLIGHT: String(REQUESTS + 1_000),
  });
  const consumer = kafka.consumer({ groupId: `bench-outcomes-${suffix}` });
  try {
    await verifier.ready(60_000);
    const answeredAfter: number[] = [];
    const arrivalLag: number[] = [];
    const publishedAfter: number[] = [];
    let maxInFlightSeen = 0;
    const done = new Promise<void>((resolve) => {
      void consumer.connect().then(async () => {
        await consumer.subscribe({ topic: topics.outcomes, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ message }) => {
            const outcome = decodeJson(verificationOutcomeSchema, message.value);
            if (outcome.outcome !== 'STALLED' || !outcome.calledAt) {
              throw new Error(`unexpected ${JSON.stringify(outcome)}`);
            }
            // The verifier's own clock: from starting the call to abandoning it.
            answeredAfter.push(Date.parse(outcome.decidedAt) - Date.parse(outcome.calledAt));
            arrivalLag.push(
              (callStartedAt.get(outcome.orderId) ?? Number.NaN) - Date.parse(outcome.calledAt),
            );
            publishedAfter.push(Number(message.timestamp) - Date.parse(outcome.calledAt));
            if (answeredAfter.length === REQUESTS) resolve();
          },
        });
      });
    });
    const producer = kafka.producer();
    await producer.connect();
    const requestedAt = new Date().toISOString();
    for (let i = 0; i < REQUESTS; i += 1_000) {
      await producer.send({
        topic: topics.requests,
        messages: Array.from({ length: Math.min(1_000, REQUESTS - i) }, (_, j) => {
          const request: VerificationRequest = {
            orderId: String(i + j + 1),
            userId: '1',
            side: 'BUY',
            requestedAt,
          };
          return { key: request.orderId, value: encodeJson(request) };
        }),
      });
    }
    await producer.disconnect();
    const sampler = setInterval(() => {
      maxInFlightSeen = Math.max(maxInFlightSeen, callStartedAt.size - answeredAfter.length);
    }, 100);
    await done;
    clearInterval(sampler);
    const sorted = [...answeredAfter].sort((a, b) => a - b);
    const peak = peakRssMb(verifier.child.pid!);
    report(
      'verifier',
      [
        { name: 'verification requests', value: REQUESTS, unit: '' },
        { name: 'stall limit', value: STALL_LIMIT_MS, unit: 'ms' },
        { name: 'calls in flight at once (max seen)', value: maxInFlightSeen, unit: '' },
        { name: 'call start to STALLED outcome, min', value: sorted[0]!, unit: 'ms' },
        { name: 'call start to STALLED outcome, p50', value: percentile(sorted, 50), unit: 'ms' },
        { name: 'call start to STALLED outcome, p99', value: percentile(sorted, 99), unit: 'ms' },
        { name: 'call start to STALLED outcome, max', value: sorted.at(-1)!, unit: 'ms' },
        {
          name: 'call start to outcome in Kafka, p99',
          value: percentile(
            [...publishedAfter].sort((a, b) => a - b),
            99,
          ),
          unit: 'ms',
        },
        { name: 'call start to outcome in Kafka, max', value: Math.max(...publishedAfter), unit: 'ms' },
        { name: 'call start to its arrival at the API, max', value: Math.max(...arrivalLag), unit: 'ms' },
        { name: 'peak RSS of the verifier process', value: peak, unit: 'MB' },
      ],
      [
        {
          name: 'slowest decision / stall limit',
          value: sorted.at(-1)! / STALL_LIMIT_MS,
          target: '<= 1.01x',
        },
        {
          name: 'slowest outcome in Kafka / stall limit',
          value: Math.max(...publishedAfter) / STALL_LIMIT_MS,
        },
      ],
    );
  } finally {
    await consumer.disconnect();
    await verifier.kill('SIGTERM');
    await api.stop();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
}

if (require.main === module) runStandalone(run);
