import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes';

const kafkaScript = path.resolve(__dirname, '../../scripts/kafka.sh');

export interface DedicatedBroker {
  brokers: string;
  start(): void;
  stop(): void;
  /** Stops the broker and deletes its data. */
  destroy(): void;
}

/**
 * A Kafka broker of a suite's own (scripts/kafka.sh on free ports, its own data directory), for
 * tests that stop and restart the broker without disturbing the suites running beside them.
 */
export async function startDedicatedBroker(
  options: {
    /** SASL/SCRAM and ACLs on (infra/kafka/sasl.properties.in): `admin`, with this password, is the super user. */
    saslAdminPassword?: string;
  } = {},
): Promise<DedicatedBroker> {
  const [port, controllerPort] = [await freePort(), await freePort()];
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'kafka-test-'));
  const { KAFKA_BROKERS: _shared, ...env } = process.env;
  const brokerEnv = {
    ...env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_STATE_DIR: stateDir,
    KAFKA_HEAP_OPTS: '-Xms256m -Xmx512m',
    ...(options.saslAdminPassword ? { KAFKA_SASL_ADMIN_PASSWORD: options.saslAdminPassword } : {}),
  };
  const run = (command: 'start' | 'stop') =>
    execFileSync('bash', [kafkaScript, command], { env: brokerEnv, stdio: 'pipe' });
  run('start');
  return {
    brokers: `127.0.0.1:${port}`,
    start: () => run('start'),
    stop: () => run('stop'),
    destroy: () => {
      run('stop');
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
