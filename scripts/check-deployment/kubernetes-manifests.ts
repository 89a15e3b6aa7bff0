import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { fail, notes } from './findings';
import { root } from './repository-files';
import { arr, obj, str, text, type Obj } from './yaml-values';

export interface Manifest {
  kind: string;
  name: string;
  file: string;
  body: Obj;
}

export const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);
export const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/** Every manifest a kustomization lists, following the directories it names. */
export function loadKustomization(dir: string, manifests: Manifest[] = []): Manifest[] {
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

export function podTemplate(manifest: Manifest): Obj {
  const spec = obj(manifest.body.spec);
  if (manifest.kind === 'CronJob') return obj(obj(obj(spec.jobTemplate).spec).template);
  return obj(spec.template);
}

export function labelsMatch(selector: Obj, labels: Obj): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

export type ConfigKind = 'ConfigMap' | 'Secret';

/** The data of a ConfigMap or Secret (decoded) of these manifests, or undefined when none has that name. */
export function configData(manifests: Manifest[], kind: ConfigKind, name: string): Obj | undefined {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.name === name);
  if (!found) return undefined;
  const decoded = Object.fromEntries(
    Object.entries(obj(found.body.data)).map(([key, value]) => [
      key,
      kind === 'Secret' ? Buffer.from(text(value), 'base64').toString('utf8') : value,
    ]),
  );
  return { ...decoded, ...obj(found.body.stringData) };
}
