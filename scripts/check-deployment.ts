import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig } from '@brokerage/common';
import { parse, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { parseDockerfile, type Image } from './dockerfile';

// `npx tsx scripts/check-deployment.ts [--compose <file>] [--k8s <kustomization dir>]`
//
// Checks the deployment descriptions against the code, so that a renamed variable, a typo or a
// service missing from one of them fails in CI rather than at 3 a.m.:
// - every application service of docker-compose.yml and every platform container of the Kubernetes
//   manifests runs an entry point the Dockerfile's image contains (and `npm run build` produces),
//   through the image's entrypoint (tini), with the files it reads at run time in the image;
// - every variable it sets is one its config schema (`<service>/src/config.ts`) reads, and every
//   variable whose default only works on a developer's machine (127.0.0.1) is set;
// - the resulting environment passes the service's own `loadConfig`, as at start in production;
// - URLs that name another service use a port that service listens on; Prometheus scrapes every
//   service at its port; Kubernetes probes, ports, grace periods and security settings fit the code.
// Exits 1 listing every problem.

const root = path.resolve(__dirname, '..');

// ---------- What the code says ------------------------------------------------------------------

/** Variables Node.js itself reads, allowed in any service although no config schema names them. */
const RUNTIME_VARIABLES = new Set(['NODE_OPTIONS']);

/** Variables read by name pattern rather than by name, and the config keys they are gathered into. */
const PATTERN_VARIABLES: Record<string, { pattern: RegExp; derivedKeys: string[] }> = {
  // gateway/src/config.ts: SUBGRAPH_<NAME>_URL points the gateway at one subgraph.
  gateway: { pattern: /^SUBGRAPH_([A-Z0-9_]+)_URL$/, derivedKeys: ['SUBGRAPH_URLS'] },
};

/** Stand-ins for external systems: run by docker-compose.yml, never deployed to Kubernetes. */
const STAND_INS = new Set(['workers/verification-api']);

/** Services that serve no /metrics (their ops routes have no registry), so Prometheus skips them. */
const WITHOUT_METRICS = new Set(['workers/verification-api']);

/** Files a service reads at run time besides its bundle, unless the variable named moves them. */
const RUNTIME_FILES: Record<string, Array<{ file: string; unless: string }>> = {
  gateway: [{ file: 'schema/supergraph.graphql', unless: 'SUPERGRAPH_PATH' }],
  'workers/price-fetcher': [{ file: 'data/price_data.csv', unless: 'CSV_PATH' }],
};

/** A package's further process (the notifier of subgraphs/notifications): its own src/<name>/config.ts. */
const PROCESS_ENTRY = /^((?:subgraphs|workers)\/[^/]+)\/dist\/([\w-]+)\/index\.js$/;

/** The migration script is not a service: its variables are the database URLs it names. */
const MIGRATE_ENTRY = 'scripts/dist/migrate.js';

/** The ops routes every service serves (common/src/health.ts). */
const LIVENESS_PATH = '/health';
const READINESS_PATH = '/ready';

/** Seconds a process may need to exit after its shutdown timeout fired (flush logs, close sockets). */
const EXIT_MARGIN_SECONDS = 5;

// ---------- Small helpers -----------------------------------------------------------------------

const problems: string[] = [];
const notes: string[] = [];
const fail = (where: string, message: string) => problems.push(`${where}: ${message}`);

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const obj = (value: unknown): Obj => (isObj(value) ? value : {});
const arr = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
/** A scalar as the environment would see it; anything else as JSON. */
const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : JSON.stringify(value);
const str = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

function readText(file: string): string | undefined {
  const full = path.resolve(root, file);
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

// ---------- The Dockerfile ----------------------------------------------------------------------

function imageHas(image: Image, file: string): boolean {
  return [...image.paths].some((copied) => file === copied || file.startsWith(`${copied}/`));
}

/** Whether `npm run build` (scripts/build.ts) writes this file. */
function builtByNpmRunBuild(entry: string): boolean {
  const service = /^((?:gateway)|(?:subgraphs|workers)\/[^/]+)\/dist\/index\.js$/.exec(entry);
  if (service) return existsSync(path.join(root, service[1]!, 'src/index.ts'));
  // A further process of a package (`<package>/dist/<process>/index.js`), listed in scripts/build.ts.
  const packageProcess = PROCESS_ENTRY.exec(entry);
  if (packageProcess)
    return (
      existsSync(path.join(root, packageProcess[1]!, 'src', packageProcess[2]!, 'index.ts')) &&
      (readText('scripts/build.ts') ?? '').includes(`'${entry}'`)
    );
  const script = /^scripts\/dist\/([\w-]+)\.js$/.exec(entry);
  return (
    script !== null &&
    existsSync(path.join(root, 'scripts', `${script[1]}.ts`)) &&
    (readText('scripts/build.ts') ?? '').includes(`'${entry}'`)
  );
}

// ---------- The services' config schemas --------------------------------------------------------

interface Service {
  /** gateway, subgraphs/users, workers/verifier, ... */
  dir: string;
  schema?: z.ZodType;
  /** The environment variables the config reads by name. */
  variables: Set<string>;
  /** Variables whose default only works on a developer's machine (127.0.0.1), so a deployment sets them. */
  mustSet: Set<string>;
  pattern?: RegExp;
}

const services = new Map<string, Service>();

function isZodSchema(value: unknown): value is z.ZodType {
  return isObj(value) && '_zod' in value && typeof value.safeParse === 'function';
}

/** The object schema under pipes (transform, preprocess) and wrappers (default, optional). */
function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const def = schema._zod.def as unknown as {
    type: string;
    shape?: Record<string, z.ZodType>;
    in?: z.ZodType;
    out?: z.ZodType;
    innerType?: z.ZodType;
  };
  if (def.type === 'object') return def.shape;
  if (def.type === 'pipe') return (def.in && objectShape(def.in)) ?? (def.out && objectShape(def.out));
  return def.innerType ? objectShape(def.innerType) : undefined;
}

function pointsAtLocalhost(value: unknown): boolean {
  if (typeof value === 'string') return /(^|[/@:])(127\.0\.0\.1|localhost)([:/]|$)/.test(value);
  if (Array.isArray(value)) return value.some(pointsAtLocalhost);
  return false;
}

async function loadService(entry: string): Promise<Service | undefined> {
  const packageProcess = PROCESS_ENTRY.exec(entry);
  const dir =
    /^(.+)\/dist\/index\.js$/.exec(entry)?.[1] ??
    (packageProcess ? `${packageProcess[1]}/${packageProcess[2]}` : undefined);
  if (entry === MIGRATE_ENTRY) {
    const names = [...(readText('scripts/migrate.ts') ?? '').matchAll(/variable: '([A-Z][A-Z0-9_]*)'/g)].map(
      (match) => match[1]!,
    );
    if (names.length === 0) fail('scripts/migrate.ts', 'names no database URL variables');
    return { dir: 'scripts/migrate', variables: new Set(['NODE_ENV', ...names]), mustSet: new Set(names) };
  }
  if (!dir) return undefined;
  const cached = services.get(dir);
  if (cached) return cached;
  const configFile = packageProcess
    ? path.join(root, packageProcess[1]!, 'src', packageProcess[2]!, 'config.ts')
    : path.join(root, dir, 'src/config.ts');
  if (!existsSync(configFile)) {
    fail(dir, 'has no src/config.ts to check its environment against');
    return undefined;
  }
  const module: unknown = await import(pathToFileURL(configFile).href);
  const exported = { ...obj(obj(module).default), ...obj(module) };
  const schemas = Object.entries(exported).filter(
    ([name, value]) => name.endsWith('ConfigSchema') && isZodSchema(value),
  );
  if (schemas.length !== 1) {
    fail(`${dir}/src/config.ts`, `exports ${schemas.length} *ConfigSchema zod schemas; expected one`);
    return undefined;
  }
  const schema = schemas[0]![1] as z.ZodType;
  const shape = objectShape(schema);
  if (!shape) {
    fail(`${dir}/src/config.ts`, 'its config schema has no object of variables to read');
    return undefined;
  }
  const patterned = PATTERN_VARIABLES[dir];
  const service: Service = {
    dir,
    schema,
    variables: new Set(),
    mustSet: new Set(),
    pattern: patterned?.pattern,
  };
  for (const [name, field] of Object.entries(shape)) {
    if (patterned?.derivedKeys.includes(name)) continue;
    service.variables.add(name);
    const fallback = field.safeParse(undefined);
    if (!fallback.success || pointsAtLocalhost(fallback.data)) service.mustSet.add(name);
  }
  services.set(dir, service);
  return service;
}

function supergraphSubgraphs(): Set<string> {
  const sdl = readText('schema/supergraph.graphql') ?? '';
  return new Set([...sdl.matchAll(/@join__graph\(name: "([^"]+)"/g)].map((match) => match[1]!));
}

// ---------- Checking one process's environment --------------------------------------------------

/** A value the check cannot know (interpolated at deploy time, or from outside the manifests). */
const OPAQUE = Symbol('opaque');
type EnvValue = string | typeof OPAQUE;

interface Process {
  where: string;
  entry: string;
  env: Map<string, EnvValue>;
}

/** Another process of the same deployment, by the host name it is reached at. */
type PortsOf = (host: string) => Set<number> | undefined;

async function checkProcess(image: Image, { where, entry, env }: Process, portsOf: PortsOf) {
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

// ---------- docker-compose.yml ------------------------------------------------------------------

/** docker-compose interpolation: `${VAR:-default}` gives its default; anything else is unknown here. */
function composeValue(raw: unknown): EnvValue {
  if (raw === null || raw === undefined) return OPAQUE; // `NAME:` passes the host's value through
  const value = text(raw);
  if (!value.includes('$')) return value;
  const withDefault = /^\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}$/.exec(value);
  if (withDefault) return withDefault[1]!;
  return value.replace(/\$\$/g, '').includes('$') ? OPAQUE : value.replace(/\$\$/g, '$');
}

function composeEnvironment(raw: unknown): Map<string, EnvValue> {
  const env = new Map<string, EnvValue>();
  if (Array.isArray(raw)) {
    for (const item of raw) {
      const [name, ...value] = text(item).split('=');
      env.set(name!, value.length > 0 ? composeValue(value.join('=')) : OPAQUE);
    }
  } else {
    for (const [name, value] of Object.entries(obj(raw))) env.set(name, composeValue(value));
  }
  return env;
}

function commandOf(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) return raw.map((word) => text(word));
  return typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : undefined;
}

async function checkCompose(file: string, image: Image): Promise<Map<string, string>> {
  const where = path.relative(root, path.resolve(root, file));
  const source = readText(file);
  const entries = new Map<string, string>();
  if (source === undefined) {
    fail(where, 'does not exist');
    return entries;
  }
  const compose = obj(parse(source, { merge: true }) as unknown);
  const definitions = obj(compose.services);
  const portsByService = new Map<string, Set<number>>();
  const apps: Array<{ name: string; entry: string; env: Map<string, EnvValue>; port?: number }> = [];

  for (const [name, raw] of Object.entries(definitions)) {
    const definition = obj(raw);
    const imageName = str(definition.image) ?? '';
    const isApp = definition.build !== undefined || imageName.startsWith('brokerage-platform');
    portsByService.set(name, new Set());
    if (!isApp) {
      if (!/:[\w][\w.-]*$/.test(imageName) || imageName.endsWith(':latest'))
        fail(`${where} ${name}`, `image "${imageName}" is not pinned to a version`);
      continue;
    }
    const build = definition.build;
    const context = typeof build === 'string' ? build : str(obj(build).context);
    const dockerfile = str(obj(build).dockerfile) ?? 'Dockerfile';
    const target = str(obj(build).target);
    if (context !== '.' || dockerfile !== 'Dockerfile')
      fail(`${where} ${name}`, 'must build from the repository Dockerfile (build: .)');
    if (target !== undefined && !image.stages.has(target))
      fail(`${where} ${name}`, `builds target "${target}", which is no stage of the Dockerfile`);
    if (target !== undefined && target !== [...image.stages.keys()].at(-1))
      fail(`${where} ${name}`, `builds target "${target}"; only the final stage is the runtime image`);
    if (definition.entrypoint !== undefined)
      fail(`${where} ${name}`, 'overrides the entrypoint, bypassing tini (SIGTERM forwarding)');
    const command = commandOf(definition.command) ?? image.cmd;
    const env = composeEnvironment(definition.environment);
    const portValue = env.get('PORT');
    const port = typeof portValue === 'string' ? Number(portValue) : undefined;
    if (portValue === undefined)
      fail(`${where} ${name}`, 'does not set PORT, which the image HEALTHCHECK reads (else it probes 4000)');
    if (port !== undefined) portsByService.get(name)!.add(port);
    entries.set(name, command[0] ?? '');
    apps.push({ name, entry: command[0] ?? '', env, port });
  }

  for (const app of apps) {
    await checkProcess(image, { where: `${where} ${app.name}`, entry: app.entry, env: app.env }, (host) =>
      portsByService.get(host),
    );
  }

  // The development broker (scripts/kafka.sh) and the compose one are the same Kafka.
  const kafkaVersion = /^KAFKA_VERSION=(\S+)/m.exec(readText('scripts/kafka.sh') ?? '')?.[1];
  const kafka = obj(definitions.kafka);
  if (kafkaVersion && str(kafka.image) !== `apache/kafka:${kafkaVersion}`)
    fail(`${where} kafka`, `image should be apache/kafka:${kafkaVersion}, as scripts/kafka.sh runs`);
  if (!/controller/.test(str(obj(kafka.environment).KAFKA_PROCESS_ROLES) ?? ''))
    fail(`${where} kafka`, 'is not in KRaft mode (KAFKA_PROCESS_ROLES has no controller)');

  // The broker's JMX exporter reads the same metrics in compose (over JMX) as in cluster mode (agent).
  const agentRules = readText('infra/kafka/jmx-exporter.yml');
  const remoteRules = readText('infra/kafka/jmx-exporter-remote.yml');
  if (agentRules !== undefined && remoteRules !== undefined) {
    const { hostPort, ...remote } = obj(parse(remoteRules) as unknown);
    if (hostPort !== 'kafka:9101' || JSON.stringify(remote) !== JSON.stringify(parse(agentRules)))
      fail('infra/kafka/jmx-exporter-remote.yml', 'should be jmx-exporter.yml plus hostPort: kafka:9101');
  }

  // Prometheus scrapes every service that serves /metrics, at the port it listens on.
  const prometheusText = readText('infra/prometheus/prometheus.yml');
  if (prometheusText !== undefined) {
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
  return entries;
}

// ---------- Kubernetes manifests ----------------------------------------------------------------

interface Manifest {
  kind: string;
  name: string;
  file: string;
  body: Obj;
}

function loadKustomization(dir: string, manifests: Manifest[] = []): Manifest[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((name) => path.join(dir, name))
    .find((candidate) => existsSync(candidate));
  if (!file) {
    fail(path.relative(root, dir), 'has no kustomization.yaml');
    return manifests;
  }
  const kustomization = obj(parse(readFileSync(file, 'utf8')) as unknown);
  for (const resource of [...arr(kustomization.resources), ...arr(kustomization.bases)].map(String)) {
    const full = path.resolve(dir, resource);
    if (!existsSync(full)) {
      fail(path.relative(root, file), `lists ${resource}, which does not exist`);
    } else if (statSync(full).isDirectory()) {
      loadKustomization(full, manifests);
    } else {
      for (const document of parseAllDocuments(readFileSync(full, 'utf8'))) {
        if (document.errors.length > 0) {
          fail(path.relative(root, full), document.errors.map((error) => error.message).join('; '));
          continue;
        }
        const body = obj(document.toJS() as unknown);
        if (Object.keys(body).length === 0) continue;
        manifests.push({
          kind: str(body.kind) ?? '',
          name: str(obj(body.metadata).name) ?? '',
          file: path.relative(root, full),
          body,
        });
      }
    }
  }
  if (kustomization.configMapGenerator || kustomization.secretGenerator)
    notes.push(`${path.relative(root, file)}: generated ConfigMaps/Secrets are not read by this check`);
  return manifests;
}

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

function podTemplate(manifest: Manifest): Obj {
  const spec = obj(manifest.body.spec);
  if (manifest.kind === 'CronJob') return obj(obj(obj(spec.jobTemplate).spec).template);
  return obj(spec.template);
}

function labelsMatch(selector: Obj, labels: Obj): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

async function checkKubernetes(dir: string, image: Image): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const manifests = loadKustomization(path.resolve(root, dir));
  const byKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
  const data = (kind: 'ConfigMap' | 'Secret', name: string): Obj | undefined => {
    const found = byKind(kind).find((manifest) => manifest.name === name);
    if (!found) return undefined;
    const decoded = Object.fromEntries(
      Object.entries(obj(found.body.data)).map(([key, value]) => [
        key,
        kind === 'Secret' ? Buffer.from(text(value), 'base64').toString('utf8') : value,
      ]),
    );
    return { ...decoded, ...obj(found.body.stringData) };
  };
  const workloads = manifests.filter((manifest) => WORKLOADS.has(manifest.kind));
  for (const manifest of [...byKind('ConfigMap'), ...byKind('Secret')]) {
    const placeholders = Object.entries(data(manifest.kind as 'ConfigMap' | 'Secret', manifest.name) ?? {})
      .filter(([, value]) => /CHANGE-ME|example\.(com|internal)/.test(text(value)))
      .map(([key]) => key);
    if (placeholders.length > 0)
      notes.push(
        `${manifest.file} ${manifest.kind}/${manifest.name}: placeholders to replace: ${placeholders.join(', ')}`,
      );
  }

  // Services: what each exposes, and that it reaches a pod.
  const servicePorts = new Map<string, Set<number>>();
  for (const service of byKind('Service')) {
    const where = `${service.file} Service/${service.name}`;
    const spec = obj(service.body.spec);
    const selector = obj(spec.selector);
    const target = workloads.find((workload) =>
      labelsMatch(selector, obj(obj(podTemplate(workload).metadata).labels)),
    );
    if (!target) fail(where, 'selects no pod of these manifests');
    const containers = arr(obj(target && podTemplate(target).spec).containers).map(obj);
    const containerPorts = containers.flatMap((container) => arr(container.ports).map(obj));
    const ports = new Set<number>();
    for (const port of arr(spec.ports).map(obj)) {
      ports.add(Number(port.port));
      const targetPort = port.targetPort ?? port.port;
      if (
        target &&
        !containerPorts.some(
          (candidate) => candidate.name === targetPort || candidate.containerPort === targetPort,
        )
      )
        fail(where, `targetPort ${text(targetPort)} is no container port of ${target.name}`);
    }
    servicePorts.set(service.name, ports);
  }

  for (const workload of workloads) {
    const where = `${workload.file} ${workload.kind}/${workload.name}`;
    const pod = obj(podTemplate(workload).spec);
    const podSecurity = obj(pod.securityContext);
    for (const container of arr(pod.containers).map(obj)) {
      const imageName = str(container.image) ?? '';
      if (path.posix.basename(imageName).split(':')[0] !== 'brokerage-platform') continue;
      const at = `${where} container ${str(container.name) ?? '?'}`;
      if (container.command !== undefined) {
        fail(at, 'sets command, which replaces the entrypoint (tini, SIGTERM forwarding); use args');
        continue;
      }
      const args = arr(container.args).map(String);
      const entry = args[0] ?? image.cmd[0] ?? '';
      if (LONG_RUNNING.has(workload.kind)) entries.set(workload.name, entry);

      // The environment, with ConfigMap and Secret references resolved.
      const env = new Map<string, EnvValue>();
      for (const variable of arr(container.env).map(obj)) {
        const name = str(variable.name) ?? '';
        if (variable.value !== undefined) {
          env.set(name, text(variable.value));
          continue;
        }
        const from = obj(variable.valueFrom);
        const reference = from.configMapKeyRef ?? from.secretKeyRef;
        if (!reference) {
          env.set(name, OPAQUE);
          continue;
        }
        const kind = from.configMapKeyRef ? 'ConfigMap' : 'Secret';
        const { name: source, key, optional } = obj(reference);
        const values = data(kind, text(source));
        const value = values?.[text(key)];
        if (value === undefined) {
          if (optional !== true)
            fail(
              at,
              `${name} refers to ${kind} ${text(source)} key ${text(key)}, which these manifests do not define`,
            );
          env.set(name, OPAQUE);
        } else {
          env.set(name, text(value));
        }
      }
      for (const source of arr(container.envFrom).map(obj)) {
        const reference = obj(source.configMapRef ?? source.secretRef);
        const values = data(source.configMapRef ? 'ConfigMap' : 'Secret', text(reference.name));
        if (!values) fail(at, `envFrom ${text(reference.name)}: not defined in these manifests`);
        for (const [key, value] of Object.entries(values ?? {}))
          env.set(`${str(source.prefix) ?? ''}${key}`, text(value));
      }
      await checkProcess(image, { where: at, entry, env }, (host) => servicePorts.get(host.split('.')[0]!));

      // Probes, ports, shutdown, security and resources.
      const resources = obj(container.resources);
      for (const kind of ['requests', 'limits'])
        for (const resource of ['cpu', 'memory'])
          if (obj(resources[kind])[resource] === undefined) fail(at, `has no resources.${kind}.${resource}`);
      const security = obj(container.securityContext);
      const runAsNonRoot = security.runAsNonRoot ?? podSecurity.runAsNonRoot;
      const runAsUser = security.runAsUser ?? podSecurity.runAsUser;
      if (runAsNonRoot !== true) fail(at, 'does not set runAsNonRoot: true');
      if (typeof runAsUser !== 'number' || runAsUser === 0)
        fail(
          at,
          'needs a numeric non-zero runAsUser (the image user `node` is a name the kubelet cannot check)',
        );
      if (security.readOnlyRootFilesystem !== true) fail(at, 'does not set readOnlyRootFilesystem: true');
      if (security.allowPrivilegeEscalation !== false)
        fail(at, 'does not set allowPrivilegeEscalation: false');
      if (!LONG_RUNNING.has(workload.kind)) continue;

      const portValue = env.get('PORT');
      const port = typeof portValue === 'string' ? Number(portValue) : undefined;
      const ports = arr(container.ports).map(obj);
      if (port === undefined) fail(at, 'does not set PORT');
      else if (!ports.some((candidate) => candidate.containerPort === port))
        fail(at, `listens on PORT ${port}, which is not among its containerPorts`);
      const probePort = (probe: Obj) => {
        const target = obj(probe.httpGet).port;
        return typeof target === 'number'
          ? target
          : ports.find((candidate) => candidate.name === target)?.containerPort;
      };
      for (const [probeName, wanted] of [
        ['livenessProbe', LIVENESS_PATH],
        ['readinessProbe', READINESS_PATH],
      ] as const) {
        const probe = obj(container[probeName]);
        const httpGet = obj(probe.httpGet);
        if (httpGet.path !== wanted) fail(at, `${probeName} should be httpGet ${wanted}`);
        else if (port !== undefined && probePort(probe) !== port)
          fail(at, `${probeName} does not probe PORT ${port}`);
      }
      const shutdownValue = env.get('SHUTDOWN_TIMEOUT_MS');
      const shutdownSeconds = (typeof shutdownValue === 'string' ? Number(shutdownValue) : 15_000) / 1000;
      const preStop = arr(obj(obj(obj(container.lifecycle).preStop).exec).command).map(String);
      const preStopSeconds = preStop[0] === 'sleep' ? Number(preStop[1] ?? 0) : 0;
      const grace =
        typeof pod.terminationGracePeriodSeconds === 'number' ? pod.terminationGracePeriodSeconds : 30;
      const needed = preStopSeconds + shutdownSeconds + EXIT_MARGIN_SECONDS;
      if (grace < needed)
        fail(
          at,
          `terminationGracePeriodSeconds ${grace} < preStop ${preStopSeconds} s + SHUTDOWN_TIMEOUT_MS ${shutdownSeconds} s + ${EXIT_MARGIN_SECONDS} s: SIGKILL before the graceful stop ends`,
        );
    }
  }

  for (const hpa of byKind('HorizontalPodAutoscaler')) {
    const target = obj(obj(hpa.body.spec).scaleTargetRef);
    if (!workloads.some((workload) => workload.kind === target.kind && workload.name === target.name))
      fail(
        `${hpa.file} HorizontalPodAutoscaler/${hpa.name}`,
        `scales ${text(target.kind)}/${text(target.name)}, not in these manifests`,
      );
    const scaled = workloads.find((workload) => workload.name === target.name);
    if (scaled && obj(scaled.body.spec).replicas !== undefined)
      fail(
        `${scaled.file} ${scaled.kind}/${scaled.name}`,
        'sets replicas although an HPA scales it (each apply would reset them)',
      );
  }
  for (const pdb of byKind('PodDisruptionBudget')) {
    const selector = obj(obj(obj(pdb.body.spec).selector).matchLabels);
    if (!workloads.some((workload) => labelsMatch(selector, obj(obj(podTemplate(workload).metadata).labels))))
      fail(`${pdb.file} PodDisruptionBudget/${pdb.name}`, 'selects no pod of these manifests');
  }
  return entries;
}

// ---------- Main --------------------------------------------------------------------------------

async function main() {
  const composeFile = argument('--compose', 'docker-compose.yml');
  const k8sDir = argument('--k8s', 'deploy/k8s');
  const image = parseDockerfile('Dockerfile');
  if (!image.entrypoint.includes('/usr/bin/tini')) fail('Dockerfile', 'the entrypoint should run tini');

  const composeEntries = await checkCompose(composeFile, image);
  const k8sEntries = existsSync(path.resolve(root, k8sDir))
    ? await checkKubernetes(k8sDir, image)
    : (notes.push(`${k8sDir}: not found; Kubernetes manifests not checked`), undefined);

  if (k8sEntries) {
    // Both describe the same system: every service of one runs in the other (stand-ins aside).
    const deployed = new Set(k8sEntries.values());
    for (const [name, entry] of composeEntries) {
      const dir = /^(.+)\/dist\/index\.js$/.exec(entry)?.[1] ?? entry;
      if (!STAND_INS.has(dir) && !deployed.has(entry))
        fail(k8sDir, `runs no ${entry} (compose service ${name})`);
    }
    const composed = new Set(composeEntries.values());
    for (const [name, entry] of k8sEntries)
      if (!composed.has(entry)) fail(composeFile, `runs no ${entry} (Kubernetes workload ${name})`);
  }

  for (const note of notes) console.log(`note: ${note}`);
  if (problems.length > 0) {
    console.error(`Deployment check failed, ${problems.length} problem(s):`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  console.log(
    `Deployment check passed: ${composeFile} (${composeEntries.size} services)` +
      (k8sEntries ? `, ${k8sDir} (${k8sEntries.size} workloads)` : '') +
      ' agree with the Dockerfile and every service config.',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
