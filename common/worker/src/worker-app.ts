import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import {
  createKafka,
  kafkaConnectionsPart,
  type KafkaConnection,
  type KafkaSecurityConfig,
} from '@brokerage/kafka';
import {
  createMetrics,
  failureOf,
  readinessOf,
  startOpsServer,
  StartedParts,
  stopInOrder,
  type Logger,
  type OpsServer,
  type ServiceMetrics,
  type ServicePart,
} from '@brokerage/service';

/** What a worker builds its parts with: one metrics registry, one Kafka client, one logger. */
export interface WorkerKit {
  metrics: ServiceMetrics;
  registry: Registry;
  kafka: Kafka;
  logger: Logger;
  /** kafkaConnectionsPart with this worker's logger. */
  kafkaConnections: (clients: Record<string, KafkaConnection>) => ServicePart;
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
  parts: (kit: WorkerKit) => ServicePart[];
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
