import path from 'node:path';
import { parse } from 'yaml';
import type { Image } from '../dockerfile';
import { fail } from './findings';
import { checkKafkaBroker } from './kafka-broker';
import { checkProcess, OPAQUE, type EnvValue } from './process-environment';
import { checkPrometheusTargets, type ComposeApp } from './prometheus';
import { readText, root } from './repository-files';
import { obj, str, text } from './yaml-values';

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

/**
 * docker-compose.yml: every application service builds the runtime image and runs one of its entry
 * points with an environment its config accepts; the broker and Prometheus fit the services.
 * Returns each application service's entry point, by service name.
 */
export async function checkCompose(file: string, image: Image): Promise<Map<string, string>> {
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
  const apps: ComposeApp[] = [];

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
  checkKafkaBroker(where, obj(definitions.kafka));
  checkPrometheusTargets(where, apps, portsByService);
  return entries;
}
