import { parse } from 'yaml';
import { fail } from './findings';
import { readText } from './repository-files';
import { obj, str, type Obj } from './yaml-values';

/**
 * The compose broker is the development one (scripts/kafka.sh) in KRaft mode, and its JMX exporter
 * reads the same metrics in compose (over JMX) as in cluster mode (as an agent).
 */
export function checkKafkaBroker(where: string, kafka: Obj) {
  const kafkaVersion = /^KAFKA_VERSION=(\S+)/m.exec(readText('scripts/kafka.sh') ?? '')?.[1];
  if (kafkaVersion && str(kafka.image) !== `apache/kafka:${kafkaVersion}`)
    fail(`${where} kafka`, `image should be apache/kafka:${kafkaVersion}, as scripts/kafka.sh runs`);
  if (!/controller/.test(str(obj(kafka.environment).KAFKA_PROCESS_ROLES) ?? ''))
    fail(`${where} kafka`, 'is not in KRaft mode (KAFKA_PROCESS_ROLES has no controller)');

  const agentRules = readText('infra/kafka/jmx-exporter.yml');
  const remoteRules = readText('infra/kafka/jmx-exporter-remote.yml');
  if (agentRules !== undefined && remoteRules !== undefined) {
    const { hostPort, ...remote } = obj(parse(remoteRules) as unknown);
    if (hostPort !== 'kafka:9101' || JSON.stringify(remote) !== JSON.stringify(parse(agentRules)))
      fail('infra/kafka/jmx-exporter-remote.yml', 'should be jmx-exporter.yml plus hostPort: kafka:9101');
  }
}
