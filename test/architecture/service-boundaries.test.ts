import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

// A service reaches another only through what the other publishes for it: its
// `@brokerage/*-contract` (topic, key and channel names, message shapes) or the shared
// infrastructure packages under common/. Importing another service's own files would couple the
// two deployments; this reads every import of every service's sources to keep that from happening.

const root = path.resolve(__dirname, '../..');

interface Workspace {
  name: string;
  dir: string;
  main: string;
}

function workspaces(): Workspace[] {
  const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    workspaces: string[];
  };
  return manifest.workspaces.flatMap((pattern) => {
    let dirs = [''];
    for (const part of pattern.split('/')) {
      dirs = dirs.flatMap((base) =>
        part !== '*'
          ? [path.join(base, part)]
          : existsSync(path.join(root, base))
            ? readdirSync(path.join(root, base), { withFileTypes: true })
                .filter((entry) => entry.isDirectory())
                .map((entry) => path.join(base, entry.name))
            : [],
      );
    }
    return dirs
      .filter((dir) => existsSync(path.join(root, dir, 'package.json')))
      .map((dir) => {
        const { name, main } = JSON.parse(readFileSync(path.join(root, dir, 'package.json'), 'utf8')) as {
          name: string;
          main: string;
        };
        return { name, dir, main: path.join(root, dir, main) };
      });
  });
}

const all = workspaces();
const byName = new Map(all.map((workspace) => [workspace.name, workspace]));
const isShared = (workspace: Workspace) =>
  workspace.dir.startsWith('common') || workspace.name.endsWith('-contract');
const services = all.filter((workspace) => !isShared(workspace));

/** The workspace a file belongs to: the deepest one whose folder holds it. */
function workspaceOf(file: string): Workspace | undefined {
  return all
    .filter((workspace) => file.startsWith(path.join(root, workspace.dir) + path.sep))
    .sort((a, b) => b.dir.length - a.dir.length)[0];
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ['node_modules', 'dist'].includes(entry.name) ? [] : sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  return ts
    .preProcessFile(readFileSync(file, 'utf8'), true, true)
    .importedFiles.map(({ fileName }) => fileName);
}

function resolveRelative(from: string, specifier: string): string {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((candidate) => existsSync(candidate) && candidate.endsWith('.ts')) ?? base;
}

/** Which of a service file's imports reach into another service's code. */
function foreignOf(service: Workspace, file: string, specifiers: string[]): string[] {
  return specifiers.filter((specifier) => {
    const target = specifier.startsWith('.')
      ? workspaceOf(resolveRelative(file, specifier))
      : byName.get(specifier.split('/').slice(0, 2).join('/'));
    if (!target || target === service) return false;
    // Another workspace is reached by its package name (its index, not its files), and only a shared one.
    return specifier !== target.name || !isShared(target);
  });
}

/** Every import from a service's sources that reaches into another service, as `file -> import`. */
function foreignImports(service: Workspace): string[] {
  return sourceFiles(path.join(root, service.dir, 'src')).flatMap((file) =>
    foreignOf(service, file, importsOf(file)).map(
      (specifier) => `${path.relative(root, file)} -> ${specifier}`,
    ),
  );
}

describe('service boundaries', () => {
  it('finds the services and the shared packages of the workspaces', () => {
    expect(services.map(({ name }) => name)).toEqual(
      expect.arrayContaining(['@brokerage/gateway', '@brokerage/orders-subgraph', '@brokerage/verifier']),
    );
    expect(all.filter(isShared).map(({ name }) => name)).toEqual(
      expect.arrayContaining(['@brokerage/orders-contract', '@brokerage/price-fetcher-contract']),
    );
  });

  it.each(services.map((service) => [service.name, service] as const))(
    '%s imports no other service’s own code, only contracts and shared packages',
    (_name, service) => {
      expect(foreignImports(service)).toEqual([]);
    },
  );

  it('tells a contract or a shared package from another service’s code', () => {
    const orders = byName.get('@brokerage/orders-subgraph')!;
    const file = path.join(root, orders.dir, 'src/server.ts');
    expect(
      foreignOf(orders, file, [
        './db',
        'kafkajs',
        '@brokerage/price-fetcher-contract',
        '@brokerage/verifier-contract/src/verification-outcomes',
        '../../stocks/src/config',
        '../contract/src/messages',
        '@brokerage/price-fetcher',
      ]),
    ).toEqual([
      '@brokerage/verifier-contract/src/verification-outcomes',
      '../../stocks/src/config',
      '../contract/src/messages',
      '@brokerage/price-fetcher',
    ]);
  });
});
