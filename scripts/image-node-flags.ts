import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

/**
 * The flags the image gives `node` for every service: what follows `node` in the Dockerfile's
 * exec-form ENTRYPOINT, read from there so that local runs, tests and benchmarks cannot drift from
 * production. They are V8 start-up settings that change how a service behaves under load
 * (docs/deployment.md), which `NODE_OPTIONS` does not accept.
 */
export function imageNodeFlags(): string[] {
  const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const entrypoint = /^ENTRYPOINT (\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const command = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const node = command.indexOf('node');
  if (node < 0) throw new Error('the Dockerfile has no exec-form ENTRYPOINT that runs node');
  return command.slice(node + 1);
}
