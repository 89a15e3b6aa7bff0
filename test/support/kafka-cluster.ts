import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes';

const kafkaScript = path.resolve(__dirname, '../../scripts/kafka.sh');
const run = promisify(execFile);

export interface KafkaCluster {
  /** Bootstrap list of the three brokers. */
  brokers: string;
  /** kill -9 node N (1 to 3). */
  kill(node: number): Promise<void>;
  /** kill -9 node N and delete its data directory: the loss of a server and its disk. */
  wipe(node: number): Promise<void>;
  /** Starts node N again (formatted afresh when its data was deleted); resolves once it serves. */
  startNode(node: number): Promise<void>;
  /** Where each node (1 to 3, in order) serves Prometheus metrics. */
  metricsTargets: string[];
  /** The broker id (= node) of each broker's port. */
  nodeOf(broker: string): number;
  destroy(): Promise<void>;
}

/**
 * The three-node KRaft cluster of `scripts/kafka.sh cluster`, on ports of its own and with its
 * own data, for tests that kill and wipe brokers without disturbing the suites beside them.
 */
export async function startKafkaCluster(): Promise<KafkaCluster> {
  // Nine consecutive ports (broker, controller and metrics port per node) that are free now.
  let base = 0;
  for (let attempt = 0; attempt < 20 && base === 0; attempt++) {
    const candidate = await freePort();
    if (candidate > 65_000) continue;
    const free = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((offset) => portIsFree(candidate + offset)));
    if (free.every(Boolean)) base = candidate;
  }
  if (base === 0) throw new Error('no nine consecutive free ports for the Kafka cluster');
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'kafka-cluster-'));
  const { KAFKA_BROKERS: _shared, ...env } = process.env;
  const clusterEnv = {
    ...env,
    KAFKA_CLUSTER_STATE_DIR: stateDir,
    KAFKA_CLUSTER_PORT: String(base),
    KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
    // A node restarted after kill -9 recovers its logs first; a loaded machine makes that slow.
    KAFKA_START_TIMEOUT_S: '240',
  };
  const cluster = (...args: string[]) =>
    run('bash', [kafkaScript, 'cluster', ...args], { env: clusterEnv, maxBuffer: 10 * 1024 * 1024 });
  await cluster('start');
  const ports = [base, base + 2, base + 4];
  return {
    brokers: ports.map((port) => `127.0.0.1:${port}`).join(','),
    metricsTargets: [6, 7, 8].map((offset) => `127.0.0.1:${base + offset}`),
    kill: async (node) => void (await cluster('kill', String(node))),
    wipe: async (node) => void (await cluster('wipe', String(node))),
    startNode: async (node) => void (await cluster('start-node', String(node))),
    nodeOf: (broker) => ports.indexOf(Number(broker.split(':')[1])) + 1,
    destroy: async () => {
      await cluster('stop').catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
