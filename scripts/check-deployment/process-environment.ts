import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '@brokerage/service';
import type { Image } from '../dockerfile';
import { fail } from './findings';
import { builtByNpmRunBuild, imageHas } from './image-contents';
import { root } from './repository-files';
import { loadService, MIGRATE_ENTRY, supergraphSubgraphs } from './service-configs';

// One process of a deployment (a compose service, a Kubernetes container): what it runs, the
// files that needs, and its environment against its config schema.

/** Variables Node.js itself reads, allowed in any service although no config schema names them. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

/** Files a service reads at run time besides its bundle, unless the variable named moves them. */
const RUNTIME_FILES: Record<string, Array<{ file: string; unless: string }>> = {
  gateway: [{ file: 'schema/supergraph.graphql', unless: 'SUPERGRAPH_PATH' }],
  'workers/price-fetcher': [{ file: 'data/price_data.csv', unless: 'CSV_PATH' }],
};

/** A value the check cannot know (interpolated at deploy time, or from outside the manifests). */
export const OPAQUE = Symbol('opaque');
export type EnvValue = string | typeof OPAQUE;

export interface Process {
  where: string;
  entry: string;
  env: Map<string, EnvValue>;
}

/** Another process of the same deployment, by the host name it is reached at. */
export type PortsOf = (host: string) => Set<number> | undefined;

export async function checkProcess(image: Image, { where, entry, env }: Process, portsOf: PortsOf) {
  if (!imageHas(image, entry)) {
    fail(where, `runs ${entry}, which the Dockerfile's final stage does not copy in`);
  } else if (!builtByNpmRunBuild(entry)) {
    fail(where, `runs ${entry}, which \`npm run build\` (scripts/build.ts) does not produce`);
  }
  const service = await loadService(entry);
  if (!service) {
    if (!/\/dist\/index\.js$/.test(entry) && entry !== MIGRATE_ENTRY)
      fail(where, `runs ${entry}, which is neither a service (<service>/dist/index.js) nor ${MIGRATE_ENTRY}`);
    return;
  }

  // Run-time files.
  const schemaFile = `${service.dir}/schema.graphql`;
  const needed = [
    ...(existsSync(path.join(root, schemaFile)) ? [{ file: schemaFile, unless: '' }] : []),
    ...(RUNTIME_FILES[service.dir] ?? []),
  ];
  for (const { file, unless } of needed) {
    if ((unless === '' || !env.has(unless)) && !imageHas(image, file))
      fail(where, `${service.dir} reads ${file} at run time, which the image does not contain`);
  }

  // Names: unknown ones (typos) and missing ones.
  const subgraphs = supergraphSubgraphs();
  for (const name of env.keys()) {
    if (service.variables.has(name) || RUNTIME_VARIABLES.has(name)) continue;
    const match = service.pattern?.exec(name);
    if (match) {
      const subgraph = match[1]!.toLowerCase();
      if (service.dir === 'gateway' && !subgraphs.has(subgraph))
        fail(where, `${name} names no subgraph of schema/supergraph.graphql (${[...subgraphs].join(', ')})`);
      continue;
    }
    fail(where, `sets ${name}, which ${service.dir}'s config does not read (a typo, or a leftover?)`);
  }
  const inherited = new Map<string, EnvValue>([...Object.entries(image.env), ...env]);
  for (const name of service.mustSet) {
    if (!inherited.has(name))
      fail(where, `does not set ${name}, whose default (a 127.0.0.1 address, or none) cannot work there`);
  }

  // Values: the service's own loadConfig, as at start (NODE_ENV and HOST come from the image).
  const opaque = new Set([...inherited].filter(([, value]) => value === OPAQUE).map(([name]) => name));
  if (service.schema) {
    const values = Object.fromEntries(
      [...inherited].map(([name, value]) => [
        name,
        value === OPAQUE ? 'opaque-value-set-at-deploy-time-0000' : value,
      ]),
    );
    try {
      loadConfig(service.schema, values);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      for (const problem of error.problems) {
        const name = problem.split(':')[0]!;
        if (!opaque.has(name)) fail(where, `${service.dir} would refuse to start: ${problem}`);
      }
    }
  } else {
    for (const name of service.mustSet) {
      const value = inherited.get(name);
      if (typeof value === 'string' && !/^postgres(ql)?:\/\//.test(value))
        fail(where, `${name} must be a postgres:// URL`);
    }
  }

  // References to other processes of the deployment: the port must be one they listen on.
  for (const [name, value] of inherited) {
    if (value === OPAQUE) continue;
    for (const { host, port } of addressesIn(value)) {
      const ports = portsOf(host);
      if (ports === undefined) {
        if (!host.includes('.') && host !== 'localhost' && !/^\d/.test(host))
          fail(where, `${name} names host "${host}", which is no service of this deployment`);
      } else if (port !== undefined && ports.size > 0 && !ports.has(port)) {
        fail(where, `${name} reaches ${host} on port ${port}; it listens on ${[...ports].join(', ')}`);
      }
    }
  }
}

/** host:port pairs in a URL, or in a comma-separated broker list. */
function addressesIn(value: string): Array<{ host: string; port?: number }> {
  const found: Array<{ host: string; port?: number }> = [];
  for (const part of value.split(',')) {
    const trimmed = part.trim();
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
      try {
        const url = new URL(trimmed);
        found.push({ host: url.hostname, port: url.port ? Number(url.port) : undefined });
      } catch {
        // Not a URL after all; the service's own validation reports it.
      }
    } else if (/^[A-Za-z][\w.-]*:\d+$/.test(trimmed)) {
      const [host, port] = trimmed.split(':');
      found.push({ host: host!, port: Number(port) });
    }
  }
  return found;
}
