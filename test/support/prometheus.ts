import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes';

const alertRules = path.resolve(__dirname, '../../infra/prometheus/alerts.yml');

export interface Alert {
  name: string;
  state: 'pending' | 'firing';
  labels: Record<string, string>;
}

export interface PrometheusServer {
  url: string;
  /** The alerts pending or firing now. */
  alerts(): Promise<Alert[]>;
  stop(): Promise<void>;
}

/** Whether a Prometheus server binary is on the PATH (Debian's `prometheus` package). */
export function prometheusInstalled(): boolean {
  return spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * A real Prometheus scraping the given targets (job name -> host:port list) every 2 s with the
 * project's alert rules (infra/prometheus/alerts.yml), their `for` durations replaced by `forOverride`
 * so that a fault lasting seconds in a test fires them as one lasting minutes does in production.
 */
export async function startPrometheus(
  targets: Record<string, string[]>,
  { forOverride = '5s' }: { forOverride?: string } = {},
): Promise<PrometheusServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'prometheus-test-'));
  writeFileSync(
    path.join(dir, 'alerts.yml'),
    readFileSync(alertRules, 'utf8').replace(/^(\s+)for: \S+$/gm, `$1for: ${forOverride}`),
  );
  const scrapeConfigs = Object.entries(targets)
    .map(
      ([job, hosts]) =>
        `  - job_name: ${job}\n    static_configs:\n      - targets: [${hosts.map((host) => `'${host}'`).join(', ')}]`,
    )
    .join('\n');
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 2s',
      '  scrape_timeout: 1500ms',
      '  evaluation_interval: 1s',
      'rule_files:',
      '  - alerts.yml',
      'scrape_configs:',
      scrapeConfigs,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const errors: string[] = [];
  child.stderr?.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Prometheus did not start: ${errors.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    async alerts() {
      const response = await fetch(`${url}/api/v1/alerts`);
      const body = (await response.json()) as {
        data: { alerts: Array<{ state: Alert['state']; labels: Record<string, string> }> };
      };
      return body.data.alerts.map(({ state, labels }) => ({ name: labels.alertname ?? '', state, labels }));
    },
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
