import { parse } from 'yaml';
import { fail } from './findings';
import type { EnvValue } from './process-environment';
import { readText } from './repository-files';
import { arr, obj } from './yaml-values';

/** Services that serve no /metrics (their ops routes have no registry), so Prometheus skips them. */
const WITHOUT_METRICS = new Set(['workers/verification-api']);

/** An application service of docker-compose.yml. */
export interface ComposeApp {
  name: string;
  entry: string;
  env: Map<string, EnvValue>;
  port?: number;
}

/** Prometheus scrapes every compose service that serves /metrics, at the port it listens on. */
export function checkPrometheusTargets(
  where: string,
  apps: ComposeApp[],
  portsByService: Map<string, Set<number>>,
) {
  const prometheusText = readText('infra/prometheus/prometheus.yml');
  if (prometheusText === undefined) return;
  const prometheus = obj(parse(prometheusText) as unknown);
  const targets = new Set(
    arr(prometheus.scrape_configs).flatMap((job) =>
      arr(obj(job).static_configs).flatMap((config) => arr(obj(config).targets).map(String)),
    ),
  );
  for (const app of apps) {
    const dir = /^(.+)\/dist\/index\.js$/.exec(app.entry)?.[1] ?? '';
    if (WITHOUT_METRICS.has(dir) || app.port === undefined) continue;
    if (!targets.has(`${app.name}:${app.port}`))
      fail('infra/prometheus/prometheus.yml', `does not scrape ${app.name}:${app.port} (${dir})`);
  }
  for (const target of targets) {
    const [host = '', port] = target.split(':');
    if (host === 'localhost') continue;
    const ports = portsByService.get(host);
    if (!ports) fail('infra/prometheus/prometheus.yml', `scrapes ${target}: no such service in ${where}`);
    else if (ports.size > 0 && !ports.has(Number(port)))
      fail(
        'infra/prometheus/prometheus.yml',
        `scrapes ${target}; ${host} listens on ${[...ports].join(', ')}`,
      );
  }
}
