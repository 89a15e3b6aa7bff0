import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { fail } from './findings';
import { readText, root } from './repository-files';
import { isObj, obj } from './yaml-values';

// What each service's config schema (`<service>/src/config.ts`) reads from the environment.

/** Variables read by name pattern rather than by name, and the config keys they are gathered into. */
const PATTERN_VARIABLES: Record<string, { pattern: RegExp; derivedKeys: string[] }> = {
  // gateway/src/config.ts: SUBGRAPH_<NAME>_URL points the gateway at one subgraph.
  gateway: { pattern: /^SUBGRAPH_([A-Z0-9_]+)_URL$/, derivedKeys: ['SUBGRAPH_URLS'] },
};

/** A package's further process (the notifier of subgraphs/notifications): its own src/<name>/config.ts. */
export const PROCESS_ENTRY = /^((?:subgraphs|workers)\/[^/]+)\/dist\/([\w-]+)\/index\.js$/;

/** The migration script is not a service: its variables are the database URLs it names. */
export const MIGRATE_ENTRY = 'scripts/dist/migrate.js';

export interface Service {
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

/** The service an entry point runs, from its config schema (read once per service). */
export async function loadService(entry: string): Promise<Service | undefined> {
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

/** The subgraphs the composed supergraph joins, by name. */
export function supergraphSubgraphs(): Set<string> {
  const sdl = readText('schema/supergraph.graphql') ?? '';
  return new Set([...sdl.matchAll(/@join__graph\(name: "([^"]+)"/g)].map((match) => match[1]!));
}
