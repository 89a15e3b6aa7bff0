import { Partitioners, type Kafka, type Producer, type ProducerConfig } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { KafkaSecurityConfig } from './config';
import { startOpsServer, type OpsServer, type ReadinessCheck } from './health';
import { createKafka } from './kafka';
import type { Logger } from './logger';
import { createMetrics, type ServiceMetrics } from './metrics';
import { stopInOrder } from './process';

/**
 * One piece of a worker with a lifetime: a client, a consumer loop, a timer. Parts start in the
 * order they are listed and stop in the reverse order, so a part can rely on those listed before it.
 */
export interface WorkerPart {
  /** Names the part in the stop log. */
  name: string;
  start?(): Promise<unknown>;
  stop?(): Promise<unknown>;
  /** Checks this part adds to `/ready`. */
  ready?: Record<string, ReadinessCheck>;
  /** Settles if the part can no longer work and will not recover (e.g. its Kafka consumer gave up). */
  failed?: Promise<Error>;
}

/** A Kafka client: connected at start, disconnected at stop. */
interface KafkaConnection {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * A part that connects Kafka clients side by side at start and disconnects them in the order
 * given at stop (list a consumer before the producer and admin it depends on).
 */
export function kafkaConnectionsPart(clients: Record<string, KafkaConnection>, logger: Logger): WorkerPart {
  return {
    name: 'kafka connections',
    start: () => Promise.all(Object.values(clients).map((client) => client.connect())),
    stop: () =>
      stopInOrder(
        Object.entries(clients).map(([name, client]) => [`kafka ${name}`, () => client.disconnect()]),
        logger,
      ),
  };
}

/**
 * The platform's producer: idempotent with one request in flight, so that a retry never
 * duplicates or reorders; it never asks the broker to create a topic.
 */
export function createIdempotentProducer(kafka: Kafka, overrides: ProducerConfig = {}): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    ...overrides,
  });
}

type StopStep = [name: string, stop: () => Promise<unknown>];

/** Starts parts in order and knows which have started, so that only those are stopped, in reverse. */
export class StartedParts {
  private readonly started: WorkerPart[] = [];

  constructor(private readonly logger: Logger) {}

  /** Starts the parts one after the other; if one fails, those started are stopped and the error rethrown. */
  async start(parts: WorkerPart[]): Promise<void> {
    try {
      for (const part of parts) {
        await part.start?.();
        this.started.push(part);
      }
    } catch (error) {
      await stopInOrder(this.stopSteps(), this.logger).catch(() => undefined);
      throw error;
    }
  }

  /** The stop steps of the started parts, last started first; taken out, so none is stopped twice. */
  stopSteps(): StopStep[] {
    return this.started
      .splice(0)
      .reverse()
      .map((part): StopStep => [part.name, async () => part.stop?.()]);
  }
}

/** The `/ready` checks of all the parts. */
export function readinessOf(parts: WorkerPart[]): Record<string, ReadinessCheck> {
  return Object.assign({}, ...parts.map(({ ready }) => ready ?? {})) as Record<string, ReadinessCheck>;
}

/** Settles with the first part that fails for good; undefined when no part can. */
export function failureOf(parts: WorkerPart[]): Promise<Error> | undefined {
  const failures = parts.flatMap(({ failed }) => (failed ? [failed] : []));
  return failures.length > 0 ? Promise.race(failures) : undefined;
}

/** What a worker builds its parts with: one metrics registry, one Kafka client, one logger. */
export interface WorkerKit {
  metrics: ServiceMetrics;
  registry: Registry;
  kafka: Kafka;
  logger: Logger;
  /** kafkaConnectionsPart with this worker's logger. */
  kafkaConnections: (clients: Record<string, KafkaConnection>) => WorkerPart;
}

export interface WorkerConfig extends KafkaSecurityConfig {
  PORT: number;
  HOST: string;
  KAFKA_BROKERS: string[];
}

export interface WorkerApp {
  /** Starts the parts in order, then the ops server (`/health`, `/ready`, `/metrics`). */
  start(): Promise<{ url: string }>;
  /** Fails `/ready`, stops the parts in reverse order (all of them, even when one fails), then the ops server. */
  stop(): Promise<void>;
  /** Settles when any part fails for good: the process should then exit. */
  failed?: Promise<Error>;
}

export interface WorkerAppOptions {
  /** The service name: Kafka client id, metrics prefix. */
  name: string;
  config: WorkerConfig;
  logger: Logger;
  /** The worker's parts, in start order. */
  parts: (kit: WorkerKit) => WorkerPart[];
}

/**
 * The lifecycle every worker shares: metrics, a Kafka client logging through pino, its parts
 * started in order, then the ops server; on stop `/ready` fails first, the parts stop in reverse
 * (consumers, listed last, stop first and commit what they finished) and the ops server goes last.
 * A start that fails stops the parts already started.
 */
export function createWorkerApp({ name, config, logger, parts: build }: WorkerAppOptions): WorkerApp {
  const metrics = createMetrics(name);
  const kit: WorkerKit = {
    metrics,
    registry: metrics.registry,
    kafka: createKafka({ clientId: name, brokers: config.KAFKA_BROKERS, security: config, logger }),
    logger,
    kafkaConnections: (clients) => kafkaConnectionsPart(clients, logger),
  };
  const parts = build(kit);
  const failed = failureOf(parts);
  const started = new StartedParts(logger);
  let ops: OpsServer | undefined;

  return {
    ...(failed ? { failed } : {}),
    async start() {
      await started.start(parts);
      ops = await startOpsServer({
        port: config.PORT,
        host: config.HOST,
        logger,
        registry: metrics.registry,
        checks: readinessOf(parts),
      }).catch(async (error: unknown) => {
        await stopInOrder(started.stopSteps(), logger).catch(() => undefined);
        throw error;
      });
      return { url: ops.url };
    },
    async stop() {
      ops?.markDraining();
      await stopInOrder([...started.stopSteps(), ['ops server', async () => ops?.stop()]], logger);
    },
  };
}
